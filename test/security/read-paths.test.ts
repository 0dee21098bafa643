import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * What each demo user may read, written out from SPEC §5 as SQL — independently of the engine —
 * and compared with every read path of the API: lists, counts, by id and nested relations.
 */
interface DemoUser {
  id: string;
  clientId?: number;
  region?: string;
  /** Subject to the filters that all but sa and manager get. */
  manager: boolean;
  /** Subject to the region filter (sales and customer roles, unless exempt by another role). */
  regionFiltered: boolean;
  /** The OR of the user's filtered Customer grants, or null when none applies. */
  customerGrant: string | null;
}

const USERS: DemoUser[] = [
  {
    id: 'aneu',
    clientId: 1,
    region: 'British Isles',
    manager: false,
    regionFiltered: false,
    customerGrant: null,
  },
  {
    id: 'u1',
    clientId: 1,
    region: 'North America',
    manager: false,
    regionFiltered: false,
    customerGrant: null,
  },
  {
    id: 'u2',
    clientId: 2,
    region: 'British Isles',
    manager: true,
    regionFiltered: false,
    customerGrant: null,
  },
  {
    id: 'sam',
    clientId: 2,
    region: 'North America',
    manager: true,
    regionFiltered: false,
    customerGrant: null,
  },
  {
    id: 's1',
    clientId: 2,
    region: 'British Isles',
    manager: false,
    regionFiltered: true,
    customerGrant: `credit_limit > 300 or contact_name = 'Mike'`,
  },
  {
    id: 'r1',
    clientId: 1,
    region: 'Central America',
    manager: false,
    regionFiltered: false,
    customerGrant: null,
  },
  { id: 'ALFKI', clientId: 1, manager: false, regionFiltered: false, customerGrant: `id = 'ALFKI'` },
  { id: 'ANATR', clientId: 2, manager: false, regionFiltered: false, customerGrant: `id = 'ANATR'` },
  { id: 'p1', clientId: 2, manager: false, regionFiltered: false, customerGrant: `id <> 'ANATR'` },
];

/** The row predicate of SPEC §5 for one user and table, in SQL. */
function visible(user: DemoUser, table: string): string {
  const conditions: string[] = [];
  const has = (column: string) =>
    ({
      category: ['client_id'],
      customer: ['client_id', 'region'],
      employee: ['region'],
      supplier: ['region'],
      department: ['security_level'],
      product: ['discontinued'],
    })[table]?.includes(column) ?? false;
  if (has('client_id'))
    conditions.push(user.clientId === undefined ? 'false' : `client_id = ${user.clientId}`);
  if (has('security_level') && !user.manager) conditions.push('security_level = 0');
  if (has('region') && user.regionFiltered)
    conditions.push(user.region ? `region = '${user.region}'` : 'false');
  if (has('discontinued') && !user.manager) conditions.push('not discontinued');
  if (table === 'customer' && user.customerGrant) conditions.push(`(${user.customerGrant})`);
  // Scopes: a row is visible iff its parent row is (a row without a parent: to nobody but sa).
  const parent = (
    {
      order: ['customer', 'customer_id'],
      order_detail: ['order', 'order_id'],
      product: ['category', 'category_id'],
    } as Record<string, [string, string]>
  )[table];
  if (parent)
    conditions.push(`${parent[1]} in (select id from "${parent[0]}" where ${visible(user, parent[0])})`);
  return conditions.length ? conditions.join(' and ') : 'true';
}

const TABLES: [table: string, plural: string, singular: string][] = [
  ['category', 'categories', 'category'],
  ['customer', 'customers', 'customer'],
  ['department', 'departments', 'department'],
  ['employee', 'employees', 'employee'],
  ['supplier', 'suppliers', 'supplier'],
  ['shipper', 'shippers', 'shipper'],
  ['product', 'products', 'product'],
  ['order', 'orders', 'order'],
  ['order_detail', 'orderDetails', 'orderDetail'],
];

let t: TestGateway;
let callerOf: (userId: string) => Caller;
beforeAll(async () => {
  t = await startTestGateway();
  callerOf = await signIn(
    t,
    USERS.map((user) => user.id),
  );
});
afterAll(() => t?.close());

async function as(user: DemoUser, query: string) {
  const result = await t.execute(parse(query) as never, {}, callerOf(user.id));
  expect(result.errors).toBeUndefined();
  return result.data as Record<string, unknown>;
}

async function sqlIds(table: string, predicate: string): Promise<string[]> {
  const { rows } = await t.db.sql.query(`select id from "${table}" where ${predicate} order by id`);
  return rows.map((row) => String(row.id));
}

describe.each(USERS)('$id reads', (user) => {
  it.each(TABLES)(
    '%s: list, count and by id show exactly the visible rows',
    async (table, plural, singular) => {
      const expected = await sqlIds(table, visible(user, table));
      const data = await as(user, `{ ${plural}(limit: 1000, orderBy: [{ id: ASC }]) { id } ${plural}Count }`);
      expect((data[plural] as { id: string }[]).map((row) => row.id)).toEqual(expected.slice(0, 1000));
      expect(data[`${plural}Count`]).toBe(expected.length);

      const hidden = await sqlIds(table, `not (${visible(user, table)})`);
      if (hidden[0]) {
        const literal = table === 'customer' ? `"${hidden[0]}"` : hidden[0];
        expect(await as(user, `{ ${singular}(id: ${literal}) { id } }`)).toEqual({ [singular]: null });
      }
      if (expected[0]) {
        const literal = table === 'customer' ? `"${expected[0]}"` : expected[0];
        expect(await as(user, `{ ${singular}(id: ${literal}) { id } }`)).toEqual({
          [singular]: { id: expected[0] },
        });
      }
    },
  );

  it('nested: hidden to-one rows resolve to null, hidden to-many rows are omitted', async () => {
    const data = await as(user, `{ orders(limit: 1000, orderBy: [{ id: ASC }]) { id customer { id } } }`);
    const visibleCustomers = new Set(await sqlIds('customer', visible(user, 'customer')));
    const { rows } = await t.db.sql.query('select id, customer_id from "order" order by id limit 1000');
    const byOrder = new Map(rows.map((row) => [String(row.id), row.customer_id as string | null]));
    for (const order of data.orders as { id: string; customer: { id: string } | null }[]) {
      const customerId = byOrder.get(order.id) ?? null;
      expect(order.customer?.id ?? null).toBe(
        customerId && visibleCustomers.has(customerId) ? customerId : null,
      );
    }

    // Scoped children under their parents: exactly the visible children of each visible parent.
    const nested: [parents: string, children: string, table: string, foreignKey: string][] = [
      ['categories', 'products', 'product', 'category_id'],
      ['customers', 'orders', 'order', 'customer_id'],
      ['orders', 'details', 'order_detail', 'order_id'],
    ];
    for (const [parents, children, table, foreignKey] of nested) {
      // Nested limits above the demo's largest family (17 orders of one customer), within MAX_RESULT_OBJECTS.
      const rows = await as(user, `{ ${parents}(limit: 1000) { id ${children}(limit: 90) { id } } }`);
      const visibleChildren = await t.db.sql.query(
        `select id, ${foreignKey} as parent from "${table}" where ${visible(user, table)}`,
      );
      for (const parent of rows[parents] as ({ id: string } & Record<string, { id: string }[]>)[]) {
        const expected = visibleChildren.rows
          .filter((row) => String(row.parent) === parent.id)
          .map((row) => String(row.id));
        expect(parent[children]!.map((child) => child.id).sort(), `${parents} ${parent.id}`).toEqual(
          expected.sort(),
        );
      }
    }
  });
});

describe('the sample declarations tell the demo users apart', () => {
  it('s1 sees client 2 British Isles customers with a credit limit over 300 or contact Mike, and no others', async () => {
    const data = await as(
      USERS.find((u) => u.id === 's1')!,
      '{ customers(limit: 1000) { id clientId region creditLimit contactName } }',
    );
    const customers = data.customers as {
      clientId: number;
      region: string;
      creditLimit: number;
      contactName: string;
    }[];
    expect(customers.length).toBeGreaterThan(2);
    for (const customer of customers) {
      expect(customer.clientId).toBe(2);
      expect(customer.region).toBe('British Isles');
      expect(customer.creditLimit > 300 || customer.contactName === 'Mike').toBe(true);
    }
  });

  it('ALFKI sees its own customer row only, though its tenant role alone would see the whole tenant', async () => {
    expect(
      await as(
        USERS.find((u) => u.id === 'ALFKI')!,
        '{ customers { id } }',
      ),
    ).toEqual({ customers: [{ id: 'ALFKI' }] });
  });
});
