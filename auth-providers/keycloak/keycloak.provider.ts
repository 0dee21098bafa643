import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import {
  type AuthProvider,
  type AuthProviderOptions,
  AuthProviderUnavailableError,
  type AuthUser,
} from '../auth-provider.js';

/** Roles every Keycloak user holds; they say nothing about the user. */
const BUILT_IN_ROLE = /^(offline_access|uma_authorization|default-roles-.+)$/;

/**
 * Users in a Keycloak realm. A login is a password grant at the realm's token endpoint; access tokens
 * Keycloak issued directly to this client (front-ends using Keycloak's login page with this client
 * id) are accepted too, verified against the realm's JWKS with issuer and audience checks; ID and
 * refresh tokens, and tokens issued to other clients, are not. Roles come from `realm_access.roles`
 * (and, with KEYCLOAK_CLIENT_ROLES=true, `resource_access.<client>.roles`), attributes from the
 * `attributes` claim (a user-attribute protocol mapper in Keycloak).
 *
 *   KEYCLOAK_URL             https://sso.example.com  (without /realms/…)
 *   KEYCLOAK_REALM           shop
 *   KEYCLOAK_CLIENT_ID       grantgate    (a client with "Direct access grants" enabled)
 *   KEYCLOAK_CLIENT_SECRET   for a confidential client
 *   KEYCLOAK_AUDIENCE        the `aud` tokens must carry (default: the client id; add an audience mapper)
 *   KEYCLOAK_CLIENT_ROLES    true: also the client's roles
 *   KEYCLOAK_ID_CLAIM        preferred_username   (the user id the gateway uses)
 */
export class KeycloakAuthProvider implements AuthProvider {
  private readonly issuer: string;
  private readonly clientId: string;
  private readonly clientSecret?: string;
  private readonly audience: string;
  private readonly clientRoles: boolean;
  private readonly idClaim: string;
  private readonly jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(options: AuthProviderOptions) {
    const env = options.env;
    const required = (name: string) => {
      const value = env[name];
      if (!value) throw new Error(`the keycloak auth provider needs ${name}`);
      return value;
    };
    this.issuer = `${required('KEYCLOAK_URL').replace(/\/+$/, '')}/realms/${encodeURIComponent(required('KEYCLOAK_REALM'))}`;
    this.clientId = required('KEYCLOAK_CLIENT_ID');
    this.clientSecret = env.KEYCLOAK_CLIENT_SECRET || undefined;
    this.audience = env.KEYCLOAK_AUDIENCE || this.clientId;
    this.clientRoles = env.KEYCLOAK_CLIENT_ROLES === 'true';
    this.idClaim = env.KEYCLOAK_ID_CLAIM || 'preferred_username';
    // After a key rotation the JWKS is fetched again on the first unknown key id, at most this often.
    const cooldownDuration = Number(env.KEYCLOAK_JWKS_COOLDOWN_MS ?? 30_000);
    this.jwks = createRemoteJWKSet(new URL(`${this.issuer}/protocol/openid-connect/certs`), {
      cooldownDuration,
      timeoutDuration: 5000,
    });
  }

  /**
   * Keycloak stores user names in lower case and finds them whatever the case; the login form also
   * trims them. (Trimming merges at most more names than Keycloak does: for a throttle key that only
   * shares a budget.)
   */
  normalizeUsername(username: string): string {
    return username.trim().toLowerCase();
  }

  async authenticate(username: string, password: string): Promise<AuthUser | null> {
    if (username === '' || password === '') return null;
    let response: Response;
    try {
      response = await fetch(`${this.issuer}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'password',
          client_id: this.clientId,
          ...(this.clientSecret ? { client_secret: this.clientSecret } : {}),
          username,
          password,
          scope: 'openid',
        }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (error) {
      throw new AuthProviderUnavailableError('Keycloak cannot be reached', { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as { access_token?: string; error?: string };
    if (body.error === 'invalid_grant') return null;
    if (!response.ok || !body.access_token) {
      throw new AuthProviderUnavailableError(
        `Keycloak refused the token request (${response.status} ${body.error ?? ''})`,
      );
    }
    const user = await this.verifyToken(body.access_token);
    if (!user)
      throw new AuthProviderUnavailableError(
        'Keycloak issued a token that does not verify (issuer, audience or keys)',
      );
    return user;
  }

  async verifyToken(token: string): Promise<AuthUser | null> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, {
        issuer: this.issuer,
        audience: this.audience,
        algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
        requiredClaims: ['exp', 'iat', 'sub'],
        clockTolerance: 30,
      }));
    } catch {
      return null;
    }
    // The realm's key also signs ID tokens (whose `aud` is the client) and tokens for other clients
    // (whose `aud` an audience mapper may extend to this one): only an access token (`typ` Bearer)
    // that this client was issued (`azp`) is a bearer token here.
    if (payload.typ !== 'Bearer' || payload.azp !== this.clientId) return null;
    const id = payload[this.idClaim];
    if (typeof id !== 'string' || id === '') return null;
    return {
      id,
      name: typeof payload.name === 'string' ? payload.name : null,
      roles: this.rolesOf(payload),
      attributes: attributesOf(payload.attributes),
    };
  }

  private rolesOf(payload: JWTPayload): string[] {
    const realm = (payload.realm_access as { roles?: unknown } | undefined)?.roles;
    const client = (payload.resource_access as Record<string, { roles?: unknown }> | undefined)?.[
      this.clientId
    ]?.roles;
    const roles = [...strings(realm), ...(this.clientRoles ? strings(client) : [])];
    return [...new Set(roles.filter((role) => !BUILT_IN_ROLE.test(role)))].sort();
  }
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Keycloak sends user attributes as lists of strings; single values are unwrapped, digits become numbers. */
function attributesOf(claim: unknown): Record<string, unknown> {
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) return {};
  const attributes: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(claim)) {
    const value = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
    attributes[name] = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  }
  return attributes;
}
