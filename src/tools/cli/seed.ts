/**
 * `npm run seed -- [--scale N] [--reset]`: writes the served domain's demo data set, N times its
 * volume, into DATABASE_URL (or the embedded database). It refuses to write into tables that hold
 * rows unless `--reset` empties them first, and a domain without demo data (an imported one).
 */
import { parseArgs } from 'node:util';
import { dangerouslyBypassRowSecurity } from '../../../security/system/row-security.js';
import { asMaintenance } from '../../db/maintenance.js';
import { withDatabase } from './with-database.js';

const { values } = parseArgs({
  options: { scale: { type: 'string', default: '1' }, reset: { type: 'boolean', default: false } },
});
const scale = Number(values.scale);
if (!Number.isInteger(scale) || scale < 1 || scale > 10_000) {
  console.error(`--scale must be a whole number from 1 to 10000 (got "${values.scale}")`);
  process.exit(1);
}

await withDatabase(async (orm, domain) => {
  const { demoData, entities } = domain;
  if (!demoData) {
    console.error(`The domain in ${domain.folder}/ brings no demo data: its rows are your database's.`);
    process.exitCode = 1;
    return;
  }
  await orm.migrator.up();
  if (values.reset) {
    const tables = entities.map((entity) => `"${orm.getMetadata(entity).tableName}"`).join(', ');
    await dangerouslyBypassRowSecurity(orm.em).getConnection().execute(`truncate ${tables} restart identity`);
  } else if (!(await asMaintenance(orm, (em) => demoData.isEmpty(em)))) {
    console.error('The database already holds data. Run with --reset to empty the domain tables first.');
    process.exitCode = 1;
    return;
  }
  const started = performance.now();
  await asMaintenance(orm, (em) => demoData.write(em, scale));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const counts = await asMaintenance(orm, (em) =>
    Promise.all(entities.map(async (e) => `${e.name}: ${await em.count(e, {})}`)),
  );
  console.log(`Seeded scale ${scale} in ${seconds} s (${counts.join(', ')})`);
});
