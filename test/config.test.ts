import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('configuration', () => {
  it('has the defaults of SPEC §2', () => {
    expect(loadConfig({})).toEqual({
      nodeEnv: 'development',
      port: 4000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      authDatabaseUrl: undefined,
      authProvider: 'sql',
      jwtSecret: undefined,
      jwtPrivateKey: undefined,
      redisUrl: undefined,
      jwtIssuer: 'grantgate',
      jwtAudience: 'grantgate',
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 604800,
      refreshTokenMaxAgeSeconds: 30 * 86400,
      seed: 'demo',
      domain: 'domain',
      logLevel: 'info',
      introspection: true,
      dbPoolSize: 10,
      dbPoolTimeoutSeconds: 5,
      dbStatementTimeoutSeconds: 15,
      dbPreparedMemoryMiB: 32,
      dbPreparedMemoryTotalMiB: 256,
      requestTimeoutSeconds: 30,
      shutdownGraceSeconds: 0,
      databasePooler: undefined,
      metricsListener: undefined,
      maxResultObjects: 100_000,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://app@db:5432/shop',
      AUTH_DATABASE_URL: 'postgresql://auth@db/auth',
      AUTH_PROVIDER: 'ldap',
      JWT_SECRET: 'x'.repeat(32),
      JWT_ISSUER: 'https://shop.example',
      JWT_AUDIENCE: 'shop-frontend',
      ACCESS_TOKEN_TTL: '30s',
      REFRESH_TOKEN_TTL: '12h',
      REFRESH_TOKEN_MAX_AGE: '14d',
      MAX_RESULT_OBJECTS: '5000',
      TRUST_PROXY: 'loopback, 10.0.0.0/8',
      SEED: 'users',
      LOG_LEVEL: 'debug',
      DB_POOL_SIZE: '25',
      DB_POOL_TIMEOUT: '2s',
      DB_STATEMENT_TIMEOUT: '1m',
      DB_PREPARED_MEMORY: '16',
      DB_PREPARED_MEMORY_TOTAL: '128',
      REQUEST_TIMEOUT: '2m',
      SHUTDOWN_GRACE: '10s',
      DATABASE_POOLER: 'transaction',
      METRICS_PORT: '9464',
      METRICS_HOST: '10.0.0.5',
      GRAPHQL_INTROSPECTION: 'true',
    });
    expect(config).toMatchObject({
      nodeEnv: 'production',
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'postgres://app@db:5432/shop',
      authDatabaseUrl: 'postgresql://auth@db/auth',
      authProvider: 'ldap',
      jwtIssuer: 'https://shop.example',
      jwtAudience: 'shop-frontend',
      accessTokenTtlSeconds: 30,
      refreshTokenTtlSeconds: 43200,
      refreshTokenMaxAgeSeconds: 14 * 86400,
      maxResultObjects: 5000,
      trustProxy: 'loopback, 10.0.0.0/8',
      seed: 'users',
      logLevel: 'debug',
      dbPoolSize: 25,
      dbPoolTimeoutSeconds: 2,
      dbStatementTimeoutSeconds: 60,
      dbPreparedMemoryMiB: 16,
      dbPreparedMemoryTotalMiB: 128,
      requestTimeoutSeconds: 120,
      shutdownGraceSeconds: 10,
      databasePooler: 'transaction',
      metricsListener: { port: 9464, host: '10.0.0.5' },
      introspection: true,
    });
  });

  it('seeds nothing, hides the schema and drains for 5 s by default in production', () => {
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(40) })).toMatchObject({
      seed: 'none',
      introspection: false,
      shutdownGraceSeconds: 5,
    });
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(40), SHUTDOWN_GRACE: '0s' })
        .shutdownGraceSeconds,
    ).toBe(0);
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 's'.repeat(40), GRAPHQL_INTROSPECTION: 'true' })
        .introspection,
    ).toBe(true);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', SEED: '' })).toMatchObject({
      databaseUrl: undefined,
      seed: 'demo',
    });
  });

  it.each([
    [{ PORT: 'abc' }, 'Invalid configuration: PORT must be a whole number from 0 to 65535 (got "abc")'],
    [{ PORT: '70000' }, 'Invalid configuration: PORT must be a whole number from 0 to 65535 (got "70000")'],
    [
      { DATABASE_URL: 'mysql://x' },
      'Invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// connection URL',
    ],
    [{ SEED: 'all' }, 'Invalid configuration: SEED must be one of demo, users, none (got "all")'],
    [
      { LOG_LEVEL: 'verbose' },
      'Invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")',
    ],
    [
      { NODE_ENV: 'staging' },
      'Invalid configuration: NODE_ENV must be one of development, production, test (got "staging")',
    ],
    [
      { ACCESS_TOKEN_TTL: '15 minutes' },
      'Invalid configuration: ACCESS_TOKEN_TTL must be a duration such as 30s, 15m, 12h or 7d (got "15 minutes")',
    ],
    [
      { REFRESH_TOKEN_TTL: '0d' },
      'Invalid configuration: REFRESH_TOKEN_TTL must be longer than zero (got "0d")',
    ],
    [{ JWT_SECRET: 'short' }, 'Invalid configuration: JWT_SECRET must be at least 32 bytes long'],
    [
      { NODE_ENV: 'production' },
      'Invalid configuration: JWT_SECRET is required when NODE_ENV=production (or set JWT_PRIVATE_KEY)',
    ],
    [
      { JWT_PRIVATE_KEY: 'not a key' },
      'Invalid configuration: JWT_PRIVATE_KEY must be a PEM-encoded PKCS#8 private key (EdDSA or RS256)',
    ],
    [
      { DB_POOL_SIZE: '0' },
      'Invalid configuration: DB_POOL_SIZE must be a whole number from 1 to 1000 (got "0")',
    ],
    [
      { REQUEST_TIMEOUT: '30' },
      'Invalid configuration: REQUEST_TIMEOUT must be a duration such as 30s, 15m, 12h or 7d (got "30")',
    ],
    [{ REDIS_URL: 'localhost:6379' }, 'Invalid configuration: REDIS_URL must be a redis:// or rediss:// URL'],
    [
      { SHUTDOWN_GRACE: '5' },
      'Invalid configuration: SHUTDOWN_GRACE must be a duration such as 0s, 5s or 1m (got "5")',
    ],
    [
      { DATABASE_POOLER: 'session' },
      'Invalid configuration: DATABASE_POOLER must be one of none, transaction (got "session")',
    ],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
    try {
      loadConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('never echoes a secret or a URL that may hold a password', () => {
    const messageOf = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected the configuration to be refused');
    };
    expect(messageOf({ JWT_SECRET: 'hunter2' })).not.toContain('hunter2');
    expect(messageOf({ DATABASE_URL: 'mysql://u:topsecret@db/x' })).not.toContain('topsecret');
  });
});
