/**
 * `npm run db:migration:create [-- name]`: diffs the entities against a migrated database and writes
 * the difference as a new committed migration, then lists it in migrations/index.ts.
 */
import { MIGRATIONS_FOLDER } from '../orm-config.js';
import { writeMigrationIndex } from './migration-index.js';
import { withDatabase } from './with-database.js';

await withDatabase(async (orm) => {
  await orm.migrator.up();
  const created = await orm.migrator.create(undefined, false, false, process.argv[2]);
  if (!created.fileName) {
    console.log('The entities match the migrations: nothing to create.');
  } else {
    await writeMigrationIndex();
    console.log(`Created ${MIGRATIONS_FOLDER}/${created.fileName}`);
  }
});
