/** `npm run db:migrate`: applies the pending committed migrations to DATABASE_URL (or the embedded database). */
import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { openDatabase } from '../database.js';
import { createOrmOptions } from '../orm-config.js';
import { QueryLog } from '../query-log.js';

const config = loadConfig();
const log = createLogger({ ...config, logLevel: 'warn' });
const database = await openDatabase(config, log);
const orm = await MikroORM.init(createOrmOptions({ clientUrl: database.url, queryLog: new QueryLog(log) }));
try {
  const applied = await orm.migrator.up();
  console.log(applied.length ? `Applied ${applied.map((m) => m.name).join(', ')}` : 'No pending migrations.');
} finally {
  await orm.close();
  await database.close();
}
