import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { type AuthUser, DEMO_PASSWORD } from '../../auth-providers/auth-provider.js';
import { type Config } from '../config.js';
import { type DemoUsers } from '../domain.js';
import { type Logger } from '../logger.js';
import { AuthService } from './auth-service.js';
import { loadAuthProvider } from './load-provider.js';
import { LoginThrottle } from './login-throttle.js';
import { RefreshTokenStore } from './refresh-token-store.js';
import { generateSecret, TokenService } from './token-service.js';

export interface Auth {
  service: AuthService;
  /** The login throttle (its size is what tests and operators can observe of it). */
  throttle: LoginThrottle;
  close(): Promise<void>;
}

export type AuthConfig = Pick<
  Config,
  | 'nodeEnv'
  | 'seed'
  | 'authProvider'
  | 'authDatabaseUrl'
  | 'jwtSecret'
  | 'jwtPrivateKey'
  | 'jwtIssuer'
  | 'jwtAudience'
  | 'accessTokenTtlSeconds'
  | 'refreshTokenTtlSeconds'
  | 'refreshTokenMaxAgeSeconds'
  | 'redisUrl'
>;

/**
 * The demo users a provider is to create: the served domain's, outside production and unless
 * SEED=none. A domain that brings none (an imported one) gets none, whatever SEED says.
 */
export function demoUsersToCreate(
  config: Pick<Config, 'nodeEnv' | 'seed'>,
  demoUsers: DemoUsers | undefined,
): AuthUser[] {
  return config.nodeEnv !== 'production' && config.seed !== 'none' ? (demoUsers?.users ?? []) : [];
}

/**
 * Assembles authentication: the signing key, the refresh-token store (schema `auth` of the
 * application database), the login throttle and the provider AUTH_PROVIDER names.
 */
export async function createAuth(options: {
  config: AuthConfig;
  databaseUrl: string;
  dataDir: string;
  log: Logger;
  /** The served domain's demo users, if it brings any. */
  demoUsers?: DemoUsers;
  /** Where providers read their own settings (LDAP_*, KEYCLOAK_*, …). */
  env?: NodeJS.ProcessEnv;
}): Promise<Auth> {
  const { config } = options;
  const settings = {
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
  };
  const tokens = config.jwtPrivateKey
    ? await TokenService.withPrivateKey(config.jwtPrivateKey, settings)
    : TokenService.withSecret(
        config.jwtSecret ?? (await developmentSecret(options.dataDir, options.log)),
        settings,
      );

  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 5 });
  // An idle connection the server dropped (restart, failover) must not take the process down.
  // The pg error carries its whole client object; the code and message are what an operator needs.
  pool.on('error', (error: Error & { code?: string }) =>
    options.log.warn({ code: error.code, reason: error.message }, 'auth database connection lost'),
  );
  const refreshTokens = new RefreshTokenStore(
    pool,
    config.refreshTokenTtlSeconds,
    config.refreshTokenMaxAgeSeconds,
  );
  await refreshTokens.migrate();
  const provider = await loadAuthProvider(config.authProvider, {
    databaseUrl: options.databaseUrl,
    authDatabaseUrl: config.authDatabaseUrl,
    demoUsers: demoUsersToCreate(config, options.demoUsers),
    production: config.nodeEnv === 'production',
    demoAccounts: options.demoUsers?.users.map((user) => user.id) ?? [],
    env: options.env ?? process.env,
  });
  if (config.nodeEnv === 'production' && options.demoUsers)
    options.log.warn(
      `NODE_ENV=production serves a demo: its demo users, where they exist, log in with the password "${DEMO_PASSWORD}"`,
    );
  const throttle = await LoginThrottle.create(config.redisUrl, options.log);
  return {
    service: new AuthService(provider, tokens, refreshTokens, throttle, options.log),
    throttle,
    async close() {
      await provider.close?.();
      await throttle.close();
      await pool.end();
    },
  };
}

/**
 * Outside production a missing JWT_SECRET is generated once and kept in `.data/jwt-secret`, so
 * tokens survive restarts of a development gateway. (Production refuses to start without one.)
 */
async function developmentSecret(dataDir: string, log: Logger): Promise<string> {
  const file = join(dataDir, 'jwt-secret');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const secret = generateSecret();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, secret, { mode: 0o600 });
  log.info({ file }, 'generated a development JWT secret (set JWT_SECRET to choose one)');
  return secret;
}
