/**
 * `npm run db:migration:create [-- name]`: diffs the entities against a migrated database and writes
 * the difference as a new committed migration, then lists it in migrations/index.ts.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { openDatabase } from '../database.js';
import { createOrmOptions, MIGRATIONS_FOLDER } from '../orm-config.js';
import { QueryLog } from '../query-log.js';

const config = loadConfig();
const log = createLogger({ ...config, logLevel: 'warn' });
const database = await openDatabase(config, log);
const orm = await MikroORM.init(createOrmOptions({ clientUrl: database.url, queryLog: new QueryLog(log) }));
try {
  await orm.migrator.up();
  const created = await orm.migrator.create(undefined, false, false, process.argv[2]);
  if (!created.fileName) {
    console.log('The entities match the migrations: nothing to create.');
  } else {
    const files = (await readdir(MIGRATIONS_FOLDER)).filter((f) => /^Migration\d+.*\.ts$/.test(f)).sort();
    const names = files.map((f) => f.replace(/\.ts$/, ''));
    await writeFile(
      `${MIGRATIONS_FOLDER}/index.ts`,
      [
        '// The committed migrations, oldest first. `npm run db:migration:create` appends new ones here.',
        ...names.map((n) => `import { ${n} } from './${n}.js';`),
        '',
        `export const migrations = [${names.map((n) => `{ name: '${n}', class: ${n} }`).join(', ')}];`,
        '',
      ].join('\n'),
    );
    console.log(`Created ${MIGRATIONS_FOLDER}/${created.fileName}`);
  }
} finally {
  await orm.close();
  await database.close();
}
