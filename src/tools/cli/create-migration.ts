/**
 * `npm run db:migration:create [-- name] [--allow-destructive]`: diffs the entities against a
 * migrated database and writes the difference as a new committed migration, formatted, then lists
 * it in migrations/index.ts. The diff covers only what the entities map (mapped-tables-migrator.ts);
 * a change that can lose data (a dropped column, a narrower type) is refused unless allowed.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { destructiveChanges } from '../destructive-changes.js';
import { MappedTablesMigrator } from '../../db/mapped-tables-migrator.js';
import { migrationsFolderOf } from '../../domain.js';
import { writeFormatted } from './formatted-file.js';
import { writeMigrationIndex } from './migration-index.js';
import { withDatabase } from './with-database.js';

const { values, positionals } = parseArgs({
  options: { 'allow-destructive': { type: 'boolean', default: false } },
  allowPositionals: true,
});

/** MikroORM writes its generated code unformatted; the committed file must pass `npm run lint`. */
async function formatInPlace(file: string) {
  await writeFormatted(file, await readFile(file, 'utf8'));
}

await withDatabase(async (orm, domain) => {
  const folder = migrationsFolderOf(domain);
  const migrator = orm.migrator;
  if (!(migrator instanceof MappedTablesMigrator))
    throw new Error('orm-config.ts must register MappedTablesMigrator');
  await migrator.up();
  const destructive = destructiveChanges(await migrator.pendingSchemaDifference());
  if (destructive.length > 0 && !values['allow-destructive']) {
    console.error('The entities differ from the database in ways that can lose data:');
    for (const change of destructive) console.error(`  ${change}`);
    console.error(
      'Change the entities, or run again with -- --allow-destructive to write them into a migration.',
    );
    process.exitCode = 1;
    return;
  }
  const created = await migrator.create(undefined, false, false, positionals[0]);
  if (!created.fileName) {
    console.log('The entities match the migrations: nothing to create.');
    return;
  }
  await formatInPlace(`${folder}/${created.fileName}`);
  await writeMigrationIndex(folder);
  console.log(`Created ${folder}/${created.fileName}`);
});
