/**
 * `npm run db:migration:create [-- name]`: diffs the entities against a migrated database and writes
 * the difference as a new committed migration, then lists it in migrations/index.ts.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { MIGRATIONS_FOLDER } from '../orm-config.js';
import { withDatabase } from './with-database.js';

await withDatabase(async (orm) => {
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
});
