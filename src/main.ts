/**
 * `npm start`: configuration → database (DATABASE_URL or the embedded one) → migrations → seed →
 * GraphQL on HOST:PORT. SIGINT/SIGTERM drain in-flight requests, close the pool and stop the
 * embedded database before exiting.
 */
import { DEMO_PASSWORD, DEMO_USERS } from '../auth-providers/sql/demo-users.js';
import { assembleGateway } from './assemble.js';
import { type Config, loadConfigOrExit } from './config.js';
import { unreachableDatabase } from './db/connection-failure.js';
import { DATA_DIR, type Database, openDatabase } from './db/database.js';
import { DatabaseRoleError } from './db/database-role.js';
import { EmbeddedDatabaseError } from './db/embedded-postgres.js';
import { DomainError, loadDomain } from './domain.js';
import { type Gateway } from './gateway.js';
import { createLogger } from './logger.js';
import { SecurityDeclarationError } from '../security/system/security-model.js';

/** A shutdown that takes longer than this (a stuck request, a hung database) is cut short. */
const SHUTDOWN_GRACE_MS = 15_000;

const config = loadConfigOrExit();

const log = createLogger(config);
const startedAt = performance.now();
let database: Database | undefined;
let gateway: Gateway | undefined;

async function stopEverything() {
  await gateway?.stop();
  await database?.close();
}

function demoUsersHint(config: Config): string {
  const seeded = config.authProvider === 'sql' && config.nodeEnv !== 'production' && config.seed !== 'none';
  return seeded
    ? `\n  Demo users (password ${DEMO_PASSWORD}): ${DEMO_USERS.map((user) => user.id).join(', ')}`
    : '';
}

let shuttingDown = false;
async function shutdown(reason: string, exitCode: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ reason }, 'shutting down: draining in-flight requests');
  setTimeout(() => {
    log.error(`shutdown took longer than ${SHUTDOWN_GRACE_MS} ms; exiting anyway`);
    process.exit(1);
  }, SHUTDOWN_GRACE_MS).unref();
  try {
    await stopEverything();
    log.info('stopped');
  } catch (error) {
    log.error({ err: error }, 'unclean shutdown');
    exitCode = 1;
  }
  log.flush();
  process.exit(exitCode);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => void shutdown(signal, 0));
}

try {
  const domain = await loadDomain(config.domain);
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
    },
    auth: { config, dataDir: DATA_DIR },
    settings: {
      production: config.nodeEnv === 'production',
      introspection: config.introspection,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      maxResultObjects: config.maxResultObjects,
      trustProxy: config.trustProxy,
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
  console.log(`
  grantgate is ready at ${url}
  Open it in a browser for Apollo Sandbox, or try:
    curl -s ${url} -H 'content-type: application/json' \\
      -d '{"query":"mutation { login(username: \\"s1\\", password: \\"p\\") { accessToken } }"}'
  then send the token as  Authorization: Bearer <accessToken>  with
      ${JSON.stringify({ query: domain.exampleQuery ?? '{ me { id roles attributes } }' })}${demoUsersHint(config)}
`);
} catch (error) {
  const unreachable = unreachableDatabase(error, database?.url ?? config.databaseUrl);
  const message = unreachable ?? (error instanceof Error ? error.message : String(error));
  // A refusal that explains itself needs no stack trace; anything else keeps it for diagnosis.
  const explained =
    unreachable !== undefined ||
    error instanceof DatabaseRoleError ||
    error instanceof SecurityDeclarationError ||
    error instanceof EmbeddedDatabaseError ||
    error instanceof DomainError;
  log.fatal(explained ? {} : { err: error }, `could not start: ${message}`);
  await shutdown('start-up failed', 1);
}
