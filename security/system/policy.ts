import { type EntityClass, type FilterQuery } from '@mikro-orm/core';

export type Verb = 'read' | 'insert' | 'update' | 'delete';

/** Each verb defaults to allowed; set one to false to withhold it. */
export type VerbFlags = Partial<Record<Verb, boolean>>;

/**
 * The user a filter is evaluated for: `id` plus every attribute (`clientId`, `region`, …) as a property.
 * A filter that reads an attribute the user does not have, or whose value is not a single string,
 * number or boolean of the column's kind, matches no rows.
 */
export type CurrentUser = { readonly id: string } & Readonly<Record<string, unknown>>;

export type RowFilter = (currentUser: CurrentUser) => FilterQuery<object>;

export interface RolePermission {
  roles: string[];
  verbs: VerbFlags;
}

export interface Grant {
  entity: EntityClass<object>;
  role: string;
  filter?: RowFilter;
  verbs: VerbFlags;
}

export interface GlobalFilter {
  /** The entity property it constrains; it applies to every entity that has a property of this name. */
  attribute: string;
  filter: RowFilter;
  rolesNotFiltered: string[];
  /** The filter that separates tenants: every entity must be covered by it (SPEC §5, coverage). */
  tenant: boolean;
}

/** The entity belongs to the tenant of the row its to-one `relation` points to. */
export interface Scope {
  entity: EntityClass<object>;
  relation: string;
}

export interface SecurityPolicy {
  rolePermissions: RolePermission[];
  grants: Grant[];
  globalFilters: GlobalFilter[];
  scopes: Scope[];
  /** Entities every tenant reads: the tenant filter need not cover them. */
  shared: EntityClass<object>[];
}

type FilterOptions = { rolesNotFiltered: string[] };

/** The vocabulary of security/declare-security.ts: one call per rule. */
export interface SecurityDeclarations {
  /** The verbs `roles` have on every entity (each defaults to allowed unless set false). */
  rolePermission(roles: string | string[], verbs?: VerbFlags): void;
  /** Gives `role` the verbs on `entity` (all unless set false), restricted to the rows `filter` admits. */
  grant<T extends object>(
    entity: EntityClass<T>,
    role: string,
    options?: { filter?: (currentUser: CurrentUser) => FilterQuery<T>; verbs?: VerbFlags },
  ): void;
  /** Restricts every entity that has `attribute` to the rows `filter` admits, for everyone but `rolesNotFiltered`. */
  globalFilter(attribute: string, filter: RowFilter, options: FilterOptions): void;
  /**
   * The global filter that separates tenants. Every entity must be covered by it: by having
   * `attribute`, by a `scope` through a covered parent, or by `sharedByAllTenants`.
   */
  tenantFilter(attribute: string, filter: RowFilter, options: FilterOptions): void;
  /**
   * Rows of `entity` belong to the tenant of the row `relation` (a to-one relation) points to: a row is
   * visible only when that parent row is visible to the same user; a row without a parent only to `sa`.
   */
  scope<T extends object>(entity: EntityClass<T>, relation: keyof T & string): void;
  /** These entities are read by every tenant: the tenant filter does not apply to them. */
  sharedByAllTenants(...entities: EntityClass<object>[]): void;
}

/** Collects the declarations into a policy; `compileSecurityModel` checks and compiles it. */
export function declareSecurity(declare: (rules: SecurityDeclarations) => void): SecurityPolicy {
  const policy: SecurityPolicy = {
    rolePermissions: [],
    grants: [],
    globalFilters: [],
    scopes: [],
    shared: [],
  };
  const globalFilter =
    (tenant: boolean) => (attribute: string, filter: RowFilter, options: FilterOptions) => {
      policy.globalFilters.push({ attribute, filter, rolesNotFiltered: options.rolesNotFiltered, tenant });
    };
  declare({
    rolePermission(roles, verbs = {}) {
      policy.rolePermissions.push({ roles: [roles].flat(), verbs });
    },
    grant(entity, role, options = {}) {
      policy.grants.push({
        entity: entity as EntityClass<object>,
        role,
        filter: options.filter as RowFilter | undefined,
        verbs: options.verbs ?? {},
      });
    },
    globalFilter: globalFilter(false),
    tenantFilter: globalFilter(true),
    scope(entity, relation) {
      policy.scopes.push({ entity: entity as EntityClass<object>, relation });
    },
    sharedByAllTenants(...entities) {
      policy.shared.push(...entities);
    },
  });
  return policy;
}
