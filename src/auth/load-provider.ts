import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type AuthProvider,
  type AuthProviderClass,
  type AuthProviderOptions,
} from '../../auth-providers/auth-provider.js';
import { KeycloakAuthProvider } from '../../auth-providers/keycloak/keycloak.provider.js';
import { LdapAuthProvider } from '../../auth-providers/ldap/ldap.provider.js';
import { SqlAuthProvider } from '../../auth-providers/sql/sql.provider.js';

/**
 * The provider AUTH_PROVIDER names: `sql`, `ldap`, `keycloak`, or a path to a module whose default export (or export
 * named `AuthProvider`) is a class implementing the AuthProvider interface.
 */
export async function loadAuthProvider(name: string, options: AuthProviderOptions): Promise<AuthProvider> {
  const builtIn: Record<string, AuthProviderClass> = {
    sql: SqlAuthProvider,
    ldap: LdapAuthProvider,
    keycloak: KeycloakAuthProvider,
  };
  const ProviderClass = builtIn[name] ?? (await importProviderClass(name));
  const provider = new ProviderClass(options);
  if (typeof provider.authenticate !== 'function') {
    throw new Error(
      `AUTH_PROVIDER ${name}: the exported class does not implement authenticate(username, password)`,
    );
  }
  await provider.init?.();
  return provider;
}

async function importProviderClass(name: string): Promise<AuthProviderClass> {
  if (!/^\.{0,2}\/|\.[cm]?[jt]s$/.test(name)) {
    throw new Error(`AUTH_PROVIDER must be sql, keycloak, ldap or a path to a module (got "${name}")`);
  }
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(resolve(name)).href);
  } catch (error) {
    throw new Error(`AUTH_PROVIDER ${name} could not be loaded: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const candidate = module.default ?? module.AuthProvider;
  if (typeof candidate !== 'function') {
    throw new Error(`AUTH_PROVIDER ${name} must export a provider class as default (or as AuthProvider)`);
  }
  return candidate as AuthProviderClass;
}
