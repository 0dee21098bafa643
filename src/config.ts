import { z } from 'zod';

/** Durations are written as in SPEC §2 (`15m`, `7d`); they are kept in seconds. */
const DURATION_UNITS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** A duration as written (`30s`), in seconds; `examples` fill the message of a refused one. */
const durationText = (examples: string) =>
  z
    .string()
    .regex(/^\d+[smhd]$/, `must be a duration such as ${examples}`)
    .transform(
      (text) => Number(text.slice(0, -1)) * DURATION_UNITS[text.slice(-1) as keyof typeof DURATION_UNITS],
    );

const duration = durationText('30s, 15m, 12h or 7d').refine(
  (seconds) => seconds > 0,
  'must be longer than zero',
);

/** A duration that may be zero (`0s`: none). */
const durationOrNone = durationText('0s, 5s or 1m');

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// or postgresql:// connection URL')
  .refine((url) => URL.canParse(url), 'is not a valid URL');

const port = z
  .string()
  .regex(/^\d{1,5}$/, 'must be a whole number from 0 to 65535')
  .transform(Number)
  .refine((value) => value <= 65535, 'must be a whole number from 0 to 65535');

/** A size in MiB, a whole number (0: keep no prepared statement). */
const mebibytes = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of MiB')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n), 'must be a whole number of MiB');

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: () => `must be one of ${values.join(', ')}` });

const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/**
 * The largest result a document may ask for, counted before execution (see SPEC §8 and
 * src/http/result-bound.ts): objects, to-one ones included, summed over every path. The README's
 * queries count at most 10, the benchmarks' 10,200, the typed operations' 20,100 with their default
 * limits (CustomersWithRecentOrders, CategoryProducts); `customers(limit: 1000) { orders(limit: 1000)
 * { id } }` counts 1,001,000 and is refused, as are three nested lists at their default limit
 * (1,010,100) and a page of 1000 parents with 100 children each (101,000). A tenth of the million
 * keeps one request's rows and response to a few hundred megabytes at worst.
 */
export const DEFAULT_MAX_RESULT_OBJECTS = 100_000;

/**
 * Express's `trust proxy` setting, as the proxies in front of the gateway: `true` (trust every hop;
 * only behind a proxy that overwrites X-Forwarded-For), a hop count, or a comma-separated list of
 * addresses, CIDR ranges and Express's names (`loopback`, `linklocal`, `uniquelocal`).
 */
const trustProxy = z
  .string()
  .regex(
    /^[\w.:/, -]+$/,
    'must be true, a number of hops, or addresses, CIDR ranges, loopback, linklocal, uniquelocal',
  )
  .transform((text): boolean | number | string => {
    if (text === 'true') return true;
    if (text === 'false') return false;
    if (/^\d+$/.test(text)) return Number(text);
    return text;
  });

const environmentSchema = z
  .object({
    NODE_ENV: oneOf(['development', 'production', 'test']).default('development'),
    PORT: port.default(4000),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: optional(postgresUrl),
    AUTH_DATABASE_URL: optional(postgresUrl),
    MIGRATION_DATABASE_URL: optional(postgresUrl),
    AUTH_PROVIDER: z.string().min(1).default('sql'),
    JWT_SECRET: optional(
      z.string().refine((secret) => Buffer.byteLength(secret) >= 32, 'must be at least 32 bytes long'),
    ),
    JWT_ISSUER: z.string().min(1).default('grantgate'),
    JWT_AUDIENCE: z.string().min(1).default('grantgate'),
    ACCESS_TOKEN_TTL: duration.default(15 * 60),
    REFRESH_TOKEN_TTL: duration.default(7 * 86400),
    REFRESH_TOKEN_MAX_AGE: duration.default(30 * 86400),
    JWT_PRIVATE_KEY: optional(
      z
        .string()
        .refine(
          (pem) => pem.includes('PRIVATE KEY'),
          'must be a PEM-encoded PKCS#8 private key (EdDSA or RS256)',
        ),
    ),
    REDIS_URL: optional(
      z
        .string()
        .regex(/^rediss?:\/\/\S+$/, 'must be a redis:// or rediss:// URL')
        .refine((url) => URL.canParse(url), 'is not a valid URL'),
    ),
    SEED: optional(oneOf(['demo', 'users', 'none'])),
    DOMAIN: z.string().min(1).default('domain'),
    GRAPHQL_INTROSPECTION: optional(oneOf(['true', 'false'])),
    DB_POOL_SIZE: z
      .string()
      .regex(/^\d+$/, 'must be a whole number from 1 to 1000')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 1000, 'must be a whole number from 1 to 1000')
      .default(10),
    DB_POOL_TIMEOUT: duration.default(5),
    DB_STATEMENT_TIMEOUT: duration.default(15),
    DB_PREPARED_MEMORY: mebibytes.default(32),
    DB_PREPARED_MEMORY_TOTAL: mebibytes.default(256),
    REQUEST_TIMEOUT: duration.default(30),
    SHUTDOWN_GRACE: optional(durationOrNone),
    DATABASE_POOLER: optional(oneOf(['none', 'transaction'])),
    METRICS_PORT: optional(port),
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    MAX_RESULT_OBJECTS: z
      .string()
      .regex(/^\d+$/, 'must be a whole number of at least 1')
      .transform(Number)
      .refine((n) => n >= 1 && Number.isSafeInteger(n), 'must be a whole number of at least 1')
      .default(DEFAULT_MAX_RESULT_OBJECTS),
    TRUST_PROXY: optional(trustProxy),
    LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && !env.JWT_SECRET && !env.JWT_PRIVATE_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message: 'is required when NODE_ENV=production (or set JWT_PRIVATE_KEY)',
      });
    }
  });

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  /** Absent: the gateway runs its own embedded PostgreSQL under `.data/`. */
  databaseUrl?: string;
  authDatabaseUrl?: string;
  /** The tables' owner, for migrations and seeding, when DATABASE_URL is the application role. */
  migrationDatabaseUrl?: string;
  authProvider: string;
  /** HS256 key; absent (outside production) the gateway generates one and keeps it under `.data/`. */
  jwtSecret?: string;
  /** PEM private key (EdDSA or RS256): tokens are signed with it and its public half is served as JWKS. */
  jwtPrivateKey?: string;
  /** Shared login throttles between instances; absent, they are kept in memory. */
  redisUrl?: string;
  jwtIssuer: string;
  jwtAudience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** A refresh-token family ends this long after its login, however often it was rotated. */
  refreshTokenMaxAgeSeconds: number;
  /** The folder of the domain served (its index.ts): domain/ unless DOMAIN says otherwise. */
  domain: string;
  seed: 'demo' | 'users' | 'none';
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Schema introspection; on outside production, off in production unless GRAPHQL_INTROSPECTION=true. */
  introspection: boolean;
  /** Connections in the application pool. */
  dbPoolSize: number;
  /** How long a request waits for a free connection before it fails (seconds). */
  dbPoolTimeoutSeconds: number;
  /** PostgreSQL cancels any statement running longer (seconds). */
  dbStatementTimeoutSeconds: number;
  /** What one connection's prepared statements may cost PostgreSQL, as estimated (MiB). */
  dbPreparedMemoryMiB: number;
  /** ... and all of the pool's connections' together (MiB). */
  dbPreparedMemoryTotalMiB: number;
  /** A request still running after this many seconds has its queries cancelled and fails. */
  requestTimeoutSeconds: number;
  /**
   * After SIGTERM, how long `/readyz` answers 503 while the listener still serves, so that a proxy
   * notices before the listener closes: 5 s in production, none otherwise (SPEC §12).
   */
  shutdownGraceSeconds: number;
  /**
   * `transaction`: a pooler in transaction mode (PgBouncer) stands between the gateway and PostgreSQL
   * (src/db/pooler.ts). Absent: detected at start.
   */
  databasePooler?: 'none' | 'transaction';
  /** METRICS_PORT: `/metrics` also served there without authentication, on METRICS_HOST. */
  metricsListener?: { port: number; host: string };
  /** MAX_RESULT_OBJECTS: a document whose worst-case result is larger is refused before it runs. */
  maxResultObjects: number;
  /** TRUST_PROXY as Express's `trust proxy`; absent, X-Forwarded-For is ignored. */
  trustProxy?: boolean | number | string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads the environment into a typed Config; throws a ConfigError whose message is one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? 'environment');
    const value = env[variable];
    const shown = value === undefined || /SECRET|PASSWORD|KEY|URL/.test(variable) ? '' : ` (got "${value}")`;
    throw new ConfigError(`Invalid configuration: ${variable} ${issue.message}${shown}`);
  }
  const e = parsed.data;
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL,
    authDatabaseUrl: e.AUTH_DATABASE_URL,
    migrationDatabaseUrl: e.MIGRATION_DATABASE_URL,
    authProvider: e.AUTH_PROVIDER,
    jwtSecret: e.JWT_SECRET,
    jwtPrivateKey: e.JWT_PRIVATE_KEY,
    redisUrl: e.REDIS_URL,
    jwtIssuer: e.JWT_ISSUER,
    jwtAudience: e.JWT_AUDIENCE,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL,
    refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL,
    refreshTokenMaxAgeSeconds: e.REFRESH_TOKEN_MAX_AGE,
    seed: e.SEED ?? (e.NODE_ENV === 'production' ? 'none' : 'demo'),
    domain: e.DOMAIN,
    logLevel: e.LOG_LEVEL,
    introspection: e.GRAPHQL_INTROSPECTION ? e.GRAPHQL_INTROSPECTION === 'true' : e.NODE_ENV !== 'production',
    dbPoolSize: e.DB_POOL_SIZE,
    dbPoolTimeoutSeconds: e.DB_POOL_TIMEOUT,
    dbStatementTimeoutSeconds: e.DB_STATEMENT_TIMEOUT,
    dbPreparedMemoryMiB: e.DB_PREPARED_MEMORY,
    dbPreparedMemoryTotalMiB: e.DB_PREPARED_MEMORY_TOTAL,
    requestTimeoutSeconds: e.REQUEST_TIMEOUT,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE ?? (e.NODE_ENV === 'production' ? 5 : 0),
    databasePooler: e.DATABASE_POOLER,
    metricsListener:
      e.METRICS_PORT === undefined ? undefined : { port: e.METRICS_PORT, host: e.METRICS_HOST },
    maxResultObjects: e.MAX_RESULT_OBJECTS,
    trustProxy: e.TRUST_PROXY,
  };
}

/** For entry points: the configuration, or one line on stderr naming the bad variable and exit code 1. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The one place the configuration speaks before a logger exists.
    // eslint-disable-next-line no-console
    console.error(error.message);
    process.exit(1);
  }
}
