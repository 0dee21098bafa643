/** `npm run db:migrate`: applies the pending committed migrations to DATABASE_URL (or the embedded database). */
import { withDatabase } from './with-database.js';

await withDatabase(async (orm) => {
  const applied = await orm.migrator.up();
  console.log(applied.length ? `Applied ${applied.map((m) => m.name).join(', ')}` : 'No pending migrations.');
});
