import { MikroORM } from '@mikro-orm/postgresql';
import { dangerouslyBypassRowSecurity } from '../../security/system/row-security.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import northwind from '../../demo/northwind/index.js';
import { createOrmOptions, domainOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';
import { databaseFingerprint, DOMAIN_TABLES } from '../helpers/database-fingerprint.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** An empty database, migrated and seeded here at the given scale. */
async function seededDatabase(scale: number): Promise<TestDatabase> {
  const db = await createTestDatabase({ empty: true });
  const orm = await MikroORM.init(
    createOrmOptions({
      clientUrl: db.url,
      queryLog: new QueryLog(pino({ level: 'silent' })),
      ...domainOrmOptions(northwind),
    }),
  );
  await orm.migrator.up();
  await dangerouslyBypassRowSecurity(orm.em).transactional((em) => northwind.demoData!.write(em, scale));
  await orm.close();
  return db;
}

let template: TestDatabase;
beforeAll(async () => {
  template = await createTestDatabase();
});
afterAll(() => template?.drop());

const query = async <T = Record<string, unknown>>(sql: string) => (await template.sql.query(sql)).rows as T[];
const ids = async (sql: string) => (await query<{ id: string }>(sql)).map((row) => row.id);

describe('the demo data', () => {
  it('is deterministic: seeding again gives the same rows, byte for byte', async () => {
    const again = await seededDatabase(1);
    try {
      expect(await databaseFingerprint(again.sql)).toEqual(await databaseFingerprint(template.sql));
    } finally {
      await again.drop();
    }
  });

  it('continues generated ids after the seeded rows instead of colliding with them', async () => {
    // The seeder writes explicit ids, then moves each generated key's sequence past them: nextval is
    // what the key's default calls for a row added later, through the gateway or any other client.
    const withGeneratedKeys: string[] = [];
    for (const table of DOMAIN_TABLES) {
      const [key] = await query<{ sequence: string | null }>(
        `select pg_get_serial_sequence('"${table}"', 'id') as sequence`,
      );
      if (key!.sequence === null) continue;
      withGeneratedKeys.push(table);
      const [ids] = await query<{ next: string; seeded: number | null }>(
        `select nextval('${key!.sequence}') as next, (select max(id) from "${table}") as seeded`,
      );
      expect(ids!.seeded, table).not.toBeNull();
      expect(Number(ids!.next), table).toBeGreaterThan(ids!.seeded!);
    }
    // Every table but customer (a natural key) has its key generated: none was skipped unchecked.
    expect(withGeneratedKeys).toEqual(DOMAIN_TABLES.filter((table) => table !== 'customer'));
  });

  it('has about the size of Northwind', async () => {
    const [counts] = await query<Record<string, number>>(`select
      (select count(*)::int from customer) as customers, (select count(*)::int from "order") as orders,
      (select count(*)::int from order_detail) as details, (select count(*)::int from product) as products`);
    expect(counts).toMatchObject({ customers: 91, orders: 830, products: 77 });
    expect(counts!.details).toBeGreaterThan(1900);
    expect(counts!.details).toBeLessThan(2600);
  });

  it('spreads rows over three tenants and a few rows with none', async () => {
    const tenants = await query<{ client_id: number | null; n: number }>(
      'select client_id, count(*)::int as n from customer group by client_id order by client_id nulls last',
    );
    expect(tenants.map((row) => row.client_id)).toEqual([1, 2, 3, null]);
    expect(tenants.every((row) => row.n > 0)).toBe(true);
    const categoryTenants = await query<{ client_id: number | null }>(
      'select distinct client_id from category order by 1',
    );
    expect(categoryTenants.map((row) => row.client_id)).toEqual([1, 2, 3, null]);
  });

  it('gives every hand-placed customer orders, and every order lines', async () => {
    expect(
      await ids(
        `select id from customer c where id in ('ALFKI','ANATR','BRIMK','THMSD') and not exists (select 1 from "order" o where o.customer_id = c.id)`,
      ),
    ).toEqual([]);
    expect(
      await ids(
        'select id from "order" o where not exists (select 1 from order_detail d where d.order_id = o.id)',
      ),
    ).toEqual([]);
  });

  it('has rows on both sides of every sample global filter', async () => {
    const [sides] = await query<Record<string, boolean>>(`select
      bool_or(security_level = 0) and bool_or(security_level > 0) as levels from department`);
    const [products] = await query<Record<string, boolean>>(
      'select bool_or(discontinued) and bool_or(not discontinued) as both from product',
    );
    expect(sides!.levels).toBe(true);
    expect(products!.both).toBe(true);
  });

  it('is shaped so that the sample grants tell the demo users apart (SPEC §5)', async () => {
    const clientTwoBritish = `client_id = 2 and region = 'British Isles'`;
    // s1 (sales, client 2, British Isles): credit limit over 300 or contact Mike.
    const s1 = await ids(
      `select id from customer where ${clientTwoBritish} and (credit_limit > 300 or contact_name = 'Mike') order by id`,
    );
    const allBritishOfClientTwo = await ids(`select id from customer where ${clientTwoBritish} order by id`);
    expect(s1.length).toBeGreaterThanOrEqual(3);
    expect(s1.length).toBeLessThan(allBritishOfClientTwo.length);
    // ... including a customer only the "Mike" grant admits, and one only the credit grant admits.
    expect(
      await ids(
        `select id from customer where ${clientTwoBritish} and contact_name = 'Mike' and credit_limit < 300`,
      ),
    ).not.toEqual([]);
    expect(
      await ids(
        `select id from customer where ${clientTwoBritish} and contact_name <> 'Mike' and credit_limit > 300`,
      ),
    ).not.toEqual([]);
    // ALFKI and ANATR exist in different tenants, so the customer grant gives each exactly its own row.
    expect(
      await query(`select id, client_id from customer where id in ('ALFKI', 'ANATR') order by id`),
    ).toEqual([
      { id: 'ALFKI', client_id: 1 },
      { id: 'ANATR', client_id: 2 },
    ]);
    // Tenants 1 and 2 both have British Isles customers; other regions are there for the other users.
    const regionsByTenant = await query<{ client_id: number; regions: number }>(
      'select client_id, count(distinct region)::int as regions from customer where client_id is not null group by client_id',
    );
    expect(regionsByTenant.every((row) => row.regions >= 3)).toBe(true);
  });
});

describe('seed --scale', () => {
  it('writes N times the customers, orders and order lines with unique keys', async () => {
    const scaled = await seededDatabase(3);
    try {
      const { rows } = await scaled.sql.query(`select (select count(*)::int from customer) as customers,
        (select count(distinct id)::int from customer) as distinct_customers, (select count(*)::int from "order") as orders`);
      expect(rows[0]).toEqual({ customers: 273, distinct_customers: 273, orders: 2490 });
    } finally {
      await scaled.drop();
    }
  });
});
