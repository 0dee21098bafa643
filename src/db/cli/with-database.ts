import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfigOrExit } from '../../config.js';
import { createLogger } from '../../logger.js';
import { openDatabase } from '../database.js';
import { createOrmOptions } from '../orm-config.js';
import { QueryLog } from '../query-log.js';

/**
 * The common frame of the database CLIs: DATABASE_URL (or the embedded database), an initialised
 * ORM for `work` (on MIGRATION_DATABASE_URL when set), and everything closed afterwards, whatever
 * happens. A bad configuration is one line.
 */
export async function withDatabase(work: (orm: MikroORM) => Promise<void>): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger({ ...config, logLevel: 'warn' });
  // These commands change or inspect the schema and its data: they need the tables' owner.
  const database = await openDatabase(
    { databaseUrl: config.migrationDatabaseUrl ?? config.databaseUrl },
    log,
  );
  try {
    const orm = await MikroORM.init(
      createOrmOptions({ clientUrl: database.url, queryLog: new QueryLog(log) }),
    );
    try {
      await work(orm);
    } finally {
      await orm.close();
    }
  } finally {
    await database.close();
  }
}
