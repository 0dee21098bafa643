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

/** Row count and a hash of every row of every domain table: equal fingerprints, equal data. */
export async function databaseFingerprint(sql: pg.Client): Promise<Record<string, string>> {
  const fingerprint: Record<string, string> = {};
  for (const table of DOMAIN_TABLES) {
    const { rows } = await sql.query(
      `select count(*) || ':' || coalesce(md5(string_agg(t::text, ',' order by t.id)), '') as f from "${table}" t`,
    );
    fingerprint[table] = rows[0].f;
  }
  return fingerprint;
}
