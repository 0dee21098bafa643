/**
 * A user as the security model judges it: its roles and the attributes its rules read. Every auth
 * provider returns one (auth-providers/auth-provider.ts); the model never learns where it came from.
 */
export interface AuthUser {
  /** Stable id; also the login name (`s1`, `ALFKI`) and the token's `sub`. */
  id: string;
  name?: string | null;
  /** An empty list means the user is evaluated as holding the single role `public`. */
  roles: string[];
  /** Values that row filters read, e.g. `{ clientId: 2, region: 'British Isles' }`. */
  attributes: Record<string, unknown>;
}

export const SUPERUSER_ROLE = 'sa';
export const PUBLIC_ROLE = 'public';

/**
 * Holds the role `sa`: no check and no filter applies (SPEC §5). A user *named* `sa` is an ordinary
 * user: user names come from external systems and their owners may choose them.
 */
export function isSuperuser(user: AuthUser): boolean {
  return user.roles.includes(SUPERUSER_ROLE);
}

/** A user without roles is evaluated as holding the single role `public`. */
export function effectiveRoles(user: AuthUser): string[] {
  return user.roles.length > 0 ? user.roles : [PUBLIC_ROLE];
}

/** What a column compares a user attribute with, as far as filters can tell. */
export type AttributeKind = 'integer' | 'number' | 'string' | 'boolean' | 'any';

export type ScalarValue = string | number | boolean;

/**
 * The user's value of `attribute` (`id` is the user's id) when it can stand in a filter: a single
 * string, number or boolean that fits the kind of column it is compared with. Anything else — absent,
 * null, an array or object from an identity provider, `"abc"` for an integer column — is undefined,
 * which filters read as "matches no rows".
 */
export function attributeValue(
  user: AuthUser,
  attribute: string,
  kind: AttributeKind,
): ScalarValue | undefined {
  const value = attribute === 'id' ? user.id : user.attributes[attribute];
  switch (kind) {
    case 'integer':
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
      return typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : undefined;
    case 'number':
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
      return typeof value === 'string' && /^-?\d{1,15}(\.\d{1,15})?$/.test(value) ? Number(value) : undefined;
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'any':
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
      return typeof value === 'string' || typeof value === 'boolean' ? value : undefined;
  }
}

/**
 * The user's roles as one PostgreSQL array literal (`{"tenant","x,sa"}`): every name is quoted, so no
 * name can split into two, whatever commas, quotes or braces it holds. The policies read it with
 * `::text[]`.
 */
export function rolesAsDatabaseArray(user: AuthUser): string {
  return databaseArray(effectiveRoles(user));
}

/** Names as a PostgreSQL array literal, each quoted and escaped: no name can split in two. */
export function databaseArray(names: readonly string[]): string {
  return `{${names.map((name) => `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
