import { MikroORM } from '@mikro-orm/postgresql';
import { SecurityDeclarationError } from '../../../security/system/declaration-checks.js';
import { type Config, loadConfigOrExit } from '../../config.js';
import { createLogger } from '../../logger.js';
import { unreachableDatabase } from '../../db/connection-failure.js';
import { openDatabase } from '../../db/database.js';
import { EmbeddedDatabaseError } from '../../db/embedded/embedded-postgres.js';
import { declarationsFileOf, type Domain, DomainError, loadDomain } from '../../domain.js';
import { createOrmOptions, domainOrmOptions } from '../../db/orm-config.js';
import { QueryLog } from '../../db/query-log.js';

/**
 * Runs a CLI's work; a mistake in the security declarations (an entity no tenant rule covers, …) or
 * a database that cannot be reached is one line on stderr and exit code 1, not a stack trace.
 */
export async function reportingCliErrors(
  work: () => Promise<void>,
  databaseUrl: string | undefined,
  declarationsFile: string,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    const unreachable = unreachableDatabase(error, databaseUrl);
    if (unreachable) console.error(unreachable);
    else if (error instanceof SecurityDeclarationError)
      console.error(`${declarationsFile}: ${error.message}`);
    else throw error;
    process.exitCode = 1;
  }
}

/**
 * The common frame of the database CLIs: DATABASE_URL (or the embedded database), the served domain
 * (DOMAIN), an initialised ORM of its entities and migrations for `work` (on MIGRATION_DATABASE_URL
 * when set), and everything closed afterwards, whatever happens. A bad configuration is one line, and
 * so is an embedded database that cannot start. While the gateway runs the embedded database, the
 * command works on the gateway's server.
 */
export async function withDatabase(work: (orm: MikroORM, domain: Domain) => Promise<void>): Promise<void> {
  const config = loadConfigOrExit();
  const domain = await loadServedDomain(config);
  if (!domain) return;
  await withOrm(config, domainOrmOptions(domain), declarationsFileOf(domain), (orm) => work(orm, domain));
}

/**
 * The domain DOMAIN names, or undefined after one line on stderr and exit code 1 when the folder holds
 * none (as `npm start` says it).
 */
export async function loadServedDomain(config: Pick<Config, 'domain'>): Promise<Domain | undefined> {
  try {
    return await loadDomain(config.domain);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return undefined;
  }
}

/** The same frame with an ORM of no entities, for a command that reads the catalog (db:import). */
export async function withCatalog(work: (orm: MikroORM, config: Config) => Promise<void>): Promise<void> {
  const config = loadConfigOrExit();
  await withOrm(config, { entities: [] }, 'no declarations', (orm) => work(orm, config));
}

async function withOrm(
  config: Config,
  ormOptions: Pick<Parameters<typeof createOrmOptions>[0], 'entities' | 'migrations'>,
  declarationsFile: string,
  work: (orm: MikroORM) => Promise<void>,
): Promise<void> {
  const log = createLogger({ ...config, logLevel: 'warn' });
  let database;
  try {
    // These commands change or inspect the schema and its data: they need the tables' owner.
    database = await openDatabase({ databaseUrl: config.migrationDatabaseUrl ?? config.databaseUrl }, log, {
      share: true,
    });
  } catch (error) {
    if (!(error instanceof EmbeddedDatabaseError)) throw error;
    console.error(`could not open the database: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  try {
    await reportingCliErrors(
      async () => {
        const orm = await MikroORM.init(
          createOrmOptions({ clientUrl: database.url, queryLog: new QueryLog(log), ...ormOptions }),
        );
        try {
          await work(orm);
        } finally {
          await orm.close();
        }
      },
      database.url,
      declarationsFile,
    );
  } finally {
    await database.close();
  }
}
