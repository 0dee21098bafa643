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

/**
 * declare-security.ts for an import of Chinook, a representative's rule as a team would write it:
 * representatives (role `rep`, attribute `supportRep`) see their customers, and those customers'
 * invoices and lines. `policy` is the import path of security/system/policy.ts from the domain.
 */
export const chinookRepresentativeRule = (policy: string) => `
import { Invoice, InvoiceLine } from './entities.js';
import { declareSecurity } from '${policy}';

export default declareSecurity(({ rolePermission, globalFilter, scope }) => {
  // Support representatives read and write, but delete nothing.
  rolePermission('rep', { delete: false });
  // A representative sees only the customers they look after.
  globalFilter('supportRep', (currentUser) => ({ supportRep: currentUser.supportRep }), {
    rolesNotFiltered: ['sa'],
  });
  // An invoice is visible where its customer is, and a line where its invoice is.
  scope(Invoice, 'customer');
  scope(InvoiceLine, 'invoice');
});
`;
