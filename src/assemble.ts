import { MikroORM } from '@mikro-orm/postgresql';
import { compileSecurityModel, type SecurityModel } from '../security/system/security-model.js';
import { CompiledStatements } from './api/compiled-statements.js';
import { type Auth, type AuthConfig, createAuth } from './auth/create-auth.js';
import { type RequestContextOptions } from './context.js';
import { type Domain } from './domain.js';
import { createOrmOptions, domainOrmOptions, type PoolSettings } from './db/orm-config.js';
import { QueryLog } from './db/query-log.js';
import { prepareRowSecurity } from '../security/database/row-security-setup.js';
import { seedOnStart, type SeedMode } from './tools/seed/seed-database.js';
import { createGateway, type Gateway, type GatewaySettings } from './gateway.js';
import { type Logger } from './logger.js';

/** Everything the gateway needs, from `npm start`, the tests and the benchmarks alike. */
export interface GatewayAssembly {
  /** What is served: entities, declarations, migrations (DOMAIN for `npm start`, a fixture in tests). */
  domain: Domain;
  /** The application database (DATABASE_URL, or the embedded one). */
  databaseUrl: string;
  /** The tables' owner, when `databaseUrl` is the application role (MIGRATION_DATABASE_URL). */
  migrationDatabaseUrl?: string;
  /** Apply the committed migrations and seed before serving (`npm start`); tests start from a template. */
  prepare?: { seed: SeedMode };
  log: Logger;
  /** Where every SQL statement is reported (tests count them); a new one on `log` by default. */
  queryLog?: QueryLog;
  pool?: Partial<PoolSettings>;
  auth: { config: AuthConfig; dataDir: string; env?: NodeJS.ProcessEnv };
  settings?: GatewaySettings;
  /** Test and benchmark switches: see RequestContextOptions. */
  applicationRowFilter?: boolean;
  databaseLayer?: boolean;
  answersFromDatabase?: boolean;
}

export interface AssembledGateway {
  gateway: Gateway;
  orm: MikroORM;
  auth: Auth;
  model: SecurityModel;
  queryLog: QueryLog;
  requestContext: RequestContextOptions;
}

/**
 * The one composition root: opens the ORM, compiles the security declarations against its entities
 * (a mistake or an entity no tenant rule covers stops here, in one line), migrates and seeds when
 * asked, prepares the database's row security and authentication, and builds the gateway. Whatever it
 * opened is closed again if a step fails.
 */
export async function assembleGateway(options: GatewayAssembly): Promise<AssembledGateway> {
  const { log } = options;
  const queryLog = options.queryLog ?? new QueryLog(log);
  const opened: { close(): Promise<void> }[] = [];
  const open = async (url: string, pool?: Partial<PoolSettings>) => {
    const orm = await MikroORM.init(
      createOrmOptions({ clientUrl: url, queryLog, pool, ...domainOrmOptions(options.domain) }),
    );
    opened.unshift(orm);
    return orm;
  };
  try {
    const orm = await open(options.databaseUrl, options.pool);
    const model = compileSecurityModel(options.domain.policy, orm.getMetadata());
    // Migrations, seeding and the auth schema need the tables' owner.
    const ownerOrm = options.migrationDatabaseUrl
      ? await open(options.migrationDatabaseUrl, { size: 2, pooler: options.pool?.pooler })
      : undefined;
    if (options.prepare) {
      await (ownerOrm ?? orm).migrator.up();
      await seedOnStart(ownerOrm ?? orm, options.prepare.seed, log, options.domain.demoData);
    }
    const databaseSecurity = await prepareRowSecurity({ orm, ownerOrm, log, model });
    if (ownerOrm) {
      await ownerOrm.close();
      opened.splice(opened.indexOf(ownerOrm), 1);
    }
    const auth = await createAuth({
      ...options.auth,
      databaseUrl: options.migrationDatabaseUrl ?? options.databaseUrl,
      log,
      demoUsers: options.domain.demoUsers,
    });
    opened.unshift(auth);
    const requestContext: RequestContextOptions = {
      model,
      databaseSecurity,
      applicationRowFilter: options.applicationRowFilter,
      databaseLayer: options.databaseLayer,
      answersFromDatabase: options.answersFromDatabase,
      statements: new CompiledStatements(),
    };
    const gateway = await createGateway({ orm, log, auth, settings: options.settings, requestContext });
    return { gateway, orm, auth, model, queryLog, requestContext };
  } catch (error) {
    for (const resource of opened) await resource.close().catch(() => {});
    throw error;
  }
}
