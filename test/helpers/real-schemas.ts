import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';

const FIXTURES = join(import.meta.dirname, '../fixtures/real-schemas');

/**
 * Public sample databases that nobody on the project wrote; test/fixtures/real-schemas/README.md says where
 * each comes from.
 */
export type RealSchema = 'chinook' | 'adventureworks' | 'pagila';

// Chinook's one file holds its full data; the others are a schema followed by a few rows for it.
const FILES: Record<RealSchema, string[]> = {
  chinook: ['chinook.sql'],
  adventureworks: ['adventureworks-schema.sql', 'adventureworks-rows.sql'],
  pagila: ['pagila-schema.sql', 'pagila-rows.sql'],
};

/** Creates the sample's tables, views and rows in the (empty) database `sql` is connected to. */
export async function loadRealSchema(sql: pg.Client | pg.Pool, name: RealSchema): Promise<void> {
  const files = await Promise.all(FILES[name].map((file) => readFile(join(FIXTURES, file), 'utf8')));
  // One multi-statement query: one implicit transaction, so a failure leaves nothing half-loaded, and
  // one connection even from a pool, so the closing RESET ALL reaches the session that Pagila's
  // pg_dump header changed (it empties search_path) and the connection goes back as it came.
  await sql.query(`${files.join('\n;\n')}\n;\nRESET ALL;`);
}
