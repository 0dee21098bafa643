import { parse } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../demo/northwind/demo-users.js';
import { dangerouslyBypassRowSecurity } from '../../security/system/row-security.js';
import { pluralize } from '../../src/api/entity-model.js';
import { APP_ROLE } from '../../security/database/database-role.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * The second layer alone: the application-layer filter is switched off (the test-only switch), so
 * only PostgreSQL's policies, generated from the same declarations, stand between a user and the rows.
 */
let t: TestGateway;
let callerOf: (userId: string) => Caller;
beforeAll(async () => {
  t = await startTestGateway({ applicationRowFilter: false });
  callerOf = await signIn(
    t,
    DEMO_USERS.map((user) => user.id),
  );
});
afterAll(() => t?.close());

/** The entity tables; the database carries every rule that restricts rows, grants included. */
const filtered = () => t.model.securedEntities();

async function query(userId: string, document: string) {
  return t.execute(parse(document), {}, callerOf(userId));
}

describe('the database layer alone', () => {
  it('covers every entity table whose rows a rule restricts, and leaves the one no rule restricts', () => {
    expect(t.model.databasePolicies.tables).toEqual([
      'category',
      'customer',
      'department',
      'employee',
      'order',
      'order_detail',
      'product',
      'supplier',
    ]);
    expect(t.model.databasePolicies.unrestrictedTables).toEqual(['shipper']);
  });

  it.each(DEMO_USERS.map((user) => [user.id, user] as const))(
    '%s gets exactly the rows the global filters allow, by list, count and id',
    async (_id, user) => {
      for (const meta of filtered()) {
        const primaryKey = meta.getPrimaryProps()[0]!.name;
        const em = dangerouslyBypassRowSecurity(t.orm.em);
        const allowed = await em.find(meta.class, t.model.predicate(user, meta.className), {
          orderBy: { [primaryKey]: 'asc' },
        });
        const expectedIds = allowed.map((row) => String((row as Record<string, unknown>)[primaryKey]));
        const list = pluralize(meta.className[0]!.toLowerCase() + meta.className.slice(1));
        const result = await query(
          user.id,
          `{ rows: ${list}(limit: 1000, orderBy: [{ id: ASC }]) { id } count: ${list}Count }`,
        );
        expect(result.errors, `${user.id} ${list}`).toBeUndefined();
        const data = result.data as { rows: { id: string }[]; count: number };
        expect(
          data.rows.map((row) => row.id),
          `${user.id} ${list}`,
        ).toEqual(expectedIds.slice(0, 1000));
        expect(data.count, `${user.id} ${list}Count`).toBe(expectedIds.length);

        // By id: a row the filters hide reads as null.
        const all = await dangerouslyBypassRowSecurity(t.orm.em).find(meta.class, {});
        const hidden = all
          .map((row) => String((row as Record<string, unknown>)[primaryKey]))
          .find((id) => !expectedIds.includes(id));
        if (hidden) {
          const single = meta.className[0]!.toLowerCase() + meta.className.slice(1);
          const byId = await query(user.id, `{ row: ${single}(id: ${JSON.stringify(hidden)}) { id } }`);
          expect(byId.data, `${user.id} ${single}(${hidden})`).toEqual({ row: null });
        }
      }
    },
  );

  it('still refuses to write a row of another tenant', async () => {
    const other = await t.db.sql.query('select id from customer where client_id = 2 limit 1');
    const before = await t.db.sql.query('select * from customer order by id');
    const result = await query(
      'u1',
      `mutation { updateCustomer(id: "${other.rows[0].id}", input: { contactName: "Taken" }) { id } }`,
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await t.db.sql.query('select * from customer order by id')).rows).toEqual(before.rows);
  });
});

describe('the application role', () => {
  it('reads no row of any restricted table through raw SQL without the request settings', async () => {
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    try {
      await client.query(`set role ${APP_ROLE}`);
      for (const table of ['customer', 'category', 'department', 'product', 'order']) {
        const { rows } = await client.query(`select count(*)::int as n from "${table}"`);
        expect(rows[0].n, table).toBe(0);
      }
      // Shippers are shared and no rule withholds one: no row security, every reader sees them all.
      expect((await client.query('select count(*)::int as n from shipper')).rows[0].n).toBeGreaterThan(0);
      // A value read as a cast of the empty string fails closed too.
      await client.query('begin');
      await client.query("select set_config('grantgate.roles', '', true)");
      expect((await client.query('select count(*)::int as n from customer')).rows[0].n).toBe(0);
      await client.query('rollback');
      // The role owns nothing and cannot switch row-level security off.
      await expect(client.query('alter table customer disable row level security')).rejects.toThrow(
        /must be owner/,
      );
    } finally {
      await client.end();
    }
  });
});

describe('a pool of one connection', () => {
  let single: TestGateway;
  beforeAll(async () => {
    single = await startTestGateway({
      pool: { size: 1, acquireTimeoutMs: 60_000 },
      applicationRowFilter: false,
    });
  });
  afterAll(() => single?.close());

  it('carries no setting from one request into the next', async () => {
    const users = [
      { id: 'u1', clientId: 1 },
      { id: 'u2', clientId: 2 },
      { id: 'r1', clientId: 1 },
      { id: 's1', clientId: 2 },
    ];
    const withCallers = await Promise.all(
      users.map(async (user) => ({ ...user, caller: await single.callerFor(user.id) })),
    );
    // Interleaved: every request waits for the one connection the previous request used.
    const rounds = Array.from({ length: 10 }, () => withCallers).flat();
    const results = await Promise.all(
      rounds.map(async (user) => ({
        user,
        result: await single.execute(
          parse('{ customers(limit: 1000) { clientId } categories { clientId } }'),
          {},
          user.caller,
        ),
      })),
    );
    for (const { user, result } of results) {
      expect(result.errors).toBeUndefined();
      const data = result.data as { customers: { clientId: number }[]; categories: { clientId: number }[] };
      expect(data.customers.length).toBeGreaterThan(0);
      for (const row of [...data.customers, ...data.categories]) expect(row.clientId).toBe(user.clientId);
    }
    // The connection itself, after all of them: back to its own role, no user settings left.
    const [state] = await dangerouslyBypassRowSecurity(single.orm.em)
      .getConnection()
      .execute<{ role: string; client: string | null; roles: string | null }[]>(
        `select current_user as role, current_setting('grantgate.user.clientId', true) as client,
                current_setting('grantgate.roles', true) as roles`,
      );
    expect(state!.role).not.toBe(APP_ROLE);
    expect(state!.client || null).toBeNull();
    expect(state!.roles || null).toBeNull();
  });
});
