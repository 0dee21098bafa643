import type pg from 'pg';

export const DOMAIN_TABLES = [
  'category',
  'customer',
  'department',
  'employee',
  'supplier',
  'shipper',
  'product',
  'order',
  'order_detail',
];

/**
 * Row count and a hash of every row of every domain table (the demo's, or `tables` of a test's own
 * domain): equal fingerprints, equal data.
 */
export async function databaseFingerprint(
  sql: pg.Client,
  tables: readonly string[] = DOMAIN_TABLES,
): Promise<Record<string, string>> {
  const fingerprint: Record<string, string> = {};
  for (const table of tables) {
    const { rows } = await sql.query(
      `select count(*) || ':' || coalesce(md5(string_agg(t::text, ',' order by t.id)), '') as f from "${table}" t`,
    );
    fingerprint[table] = rows[0].f;
  }
  return fingerprint;
}
