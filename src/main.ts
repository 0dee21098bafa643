/**
 * `npm start`: configuration → a free PORT → the domain → database (DATABASE_URL or the embedded one)
 * → migrations → seed → GraphQL on HOST:PORT. SIGINT/SIGTERM: `/readyz` answers 503 for SHUTDOWN_GRACE
 * while requests are still served, then the listener closes, in-flight requests finish, the pool
 * closes and the embedded database stops, and the process exits 0.
 */
import { AuthProviderRefusal } from '../auth-providers/auth-provider.js';
import { assembleGateway } from './assemble.js';
import { loadConfigOrExit } from './config.js';
import { unreachableDatabase } from './db/connection-failure.js';
import { DATA_DIR, type Database, openDatabase } from './db/database.js';
import { detectPooler } from './db/pooler.js';
import { DatabaseRoleError } from '../security/database/database-role.js';
import { EmbeddedDatabaseError } from './db/embedded/embedded-postgres.js';
import { DomainError, loadDomain, requireDatabaseOf } from './domain.js';
import { type Gateway } from './gateway.js';
import { checkPortFree, listenFailure } from './http/listen-port.js';
import { createLogger } from './logger.js';
import { startBanner } from './start-banner.js';
import { startTracing } from './tracing.js';
import { SecurityDeclarationError } from '../security/system/declaration-checks.js';

/**
 * A shutdown that takes longer than its grace, a request's deadline and this (a hung database) is cut
 * short.
 */
const SHUTDOWN_MARGIN_MS = 5_000;

const config = loadConfigOrExit();

const log = createLogger(config);
const startedAt = performance.now();
let database: Database | undefined;
let gateway: Gateway | undefined;

let stopTracing: (() => Promise<void>) | undefined;

async function stopEverything(graceMs: number) {
  await gateway?.stop(graceMs);
  await database?.close();
  // The spans still batched are exported before the process exits.
  await stopTracing?.();
}

let shuttingDown = false;
/** `graceMs`: how long a gateway that serves is kept serving while `/readyz` answers 503. */
async function shutdown(reason: string, exitCode: number, graceMs = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info(
    { reason, graceMs },
    gateway && graceMs > 0
      ? `shutting down: /readyz answers 503; the listener closes in ${graceMs} ms, then in-flight requests finish`
      : 'shutting down: draining in-flight requests',
  );
  const limitMs = graceMs + config.requestTimeoutSeconds * 1000 + SHUTDOWN_MARGIN_MS;
  setTimeout(() => {
    log.error(`shutdown took longer than ${limitMs} ms; exiting anyway`);
    process.exit(1);
  }, limitMs).unref();
  try {
    await stopEverything(graceMs);
    log.info('stopped');
  } catch (error) {
    log.error({ err: error }, 'unclean shutdown');
    exitCode = 1;
  }
  log.flush();
  process.exit(exitCode);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(signal, 0, config.shutdownGraceSeconds * 1000));
}

try {
  stopTracing = await startTracing(log);
  await checkPortFree(config.port, config.host);
  const domain = await loadDomain(config.domain);
  requireDatabaseOf(domain, config.databaseUrl);
  database = await openDatabase(config, log, { holder: 'the gateway', share: false });
  ({ gateway } = await assembleGateway({
    domain,
    databaseUrl: database.url,
    migrationDatabaseUrl: config.migrationDatabaseUrl,
    prepare: { seed: config.seed },
    log,
    pool: {
      size: config.dbPoolSize,
      acquireTimeoutMs: config.dbPoolTimeoutSeconds * 1000,
      statementTimeoutMs: config.dbStatementTimeoutSeconds * 1000,
      preparedMemory: {
        connectionBytes: config.dbPreparedMemoryMiB * 2 ** 20,
        totalBytes: config.dbPreparedMemoryTotalMiB * 2 ** 20,
      },
      pooler: database.embedded
        ? 'none'
        : await detectPooler(database.url, config.databasePooler, {
            connectionTimeoutMs: config.dbPoolTimeoutSeconds * 1000,
            log,
          }),
    },
    auth: { config, dataDir: DATA_DIR },
    settings: {
      production: config.nodeEnv === 'production',
      introspection: config.introspection,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      maxResultObjects: config.maxResultObjects,
      trustProxy: config.trustProxy,
      metricsListener: config.metricsListener,
    },
  }));
  const url = await gateway.listen(config.port, config.host);
  log.info(
    {
      url,
      database: database.embedded ? 'embedded PostgreSQL under .data/' : 'DATABASE_URL',
      startupMs: Math.round(performance.now() - startedAt),
    },
    'grantgate is listening',
  );
  console.log(startBanner(url, config, domain));
} catch (error) {
  const unreachable = unreachableDatabase(error, database?.url ?? config.databaseUrl);
  const cannotListen = listenFailure(error, config.port, config.host);
  const message = unreachable ?? cannotListen ?? (error instanceof Error ? error.message : String(error));
  // A refusal that explains itself needs no stack trace; anything else keeps it for diagnosis.
  const explained =
    unreachable !== undefined ||
    cannotListen !== undefined ||
    error instanceof AuthProviderRefusal ||
    error instanceof DatabaseRoleError ||
    error instanceof SecurityDeclarationError ||
    error instanceof EmbeddedDatabaseError ||
    error instanceof DomainError;
  log.fatal(explained ? {} : { err: error }, `could not start: ${message}`);
  await shutdown('start-up failed', 1);
}
