import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CustomersByTheirOrdersDocument,
  OrdersOfCustomersInDocument,
} from '../../demo/northwind/__generated__/graphql.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { type DemoUser, LAYERS, oracle, USERS, visible } from './demo-oracle.js';

/**
 * What each demo user may read (demo-oracle.ts), compared with every read path of the API: lists,
 * counts, by id and nested relations.
 */
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

/**
 * Relation filters (SPEC §11) against the same oracle: a relation filter sees only rows the user may
 * read. The SQL here writes each case out with `visible` (unqualified columns resolve to the innermost
 * table; the outer row is `o`).
 */
const RELATION_FILTERS: [name: string, table: string, plural: string, where: string, sql: string][] = [
  [
    'to-many some',
    'customer',
    'customers',
    '{ orders: { some: { freight: { gt: 100 } } } }',
    `exists (select 1 from "order" where customer_id = o.id and freight > 100 and VISIBLE(order))`,
  ],
  [
    'to-many every (over no visible rows it holds)',
    'customer',
    'customers',
    '{ orders: { every: { freight: { gt: 20 } } } }',
    `not exists (select 1 from "order" where customer_id = o.id and (freight > 20) is not true and VISIBLE(order))`,
  ],
  [
    'to-many none',
    'employee',
    'employees',
    '{ orders: { none: { shipCountry: { eq: "Germany" } } } }',
    `not exists (select 1 from "order" where employee_id = o.id and ship_country = 'Germany' and VISIBLE(order))`,
  ],
  [
    'to-one, where only a hidden department would match for all but managers',
    'employee',
    'employees',
    '{ worksForDepartment: { securityLevel: { gt: 0 } } }',
    `exists (select 1 from department where id = o.works_for_department_id and security_level > 0 and VISIBLE(department))`,
  ],
  [
    'NOT of a to-one and a nested to-many',
    'department',
    'departments',
    '{ NOT: { parent: { employees: { some: { country: { eq: "UK" } } } } } }',
    `not exists (select 1 from department p where p.id = o.parent_id and VISIBLE(department, p) and exists (select 1 from employee where works_for_department_id = p.id and country = 'UK' and VISIBLE(employee)))`,
  ],
];

const layers = new Map<string, { t: TestGateway; callerOf: (userId: string) => Caller }>();
beforeAll(async () => {
  for (const [name, options] of LAYERS) {
    const gateway = name === 'both layers' ? t : await startTestGateway(options);
    layers.set(name, {
      t: gateway,
      callerOf:
        name === 'both layers'
          ? callerOf
          : await signIn(
              gateway,
              USERS.map((user) => user.id),
            ),
    });
  }
});
afterAll(async () => {
  for (const [name, layer] of layers) if (name !== 'both layers') await layer.t.close();
});

describe.each(LAYERS.map(([name]) => name))('relation filters under %s', (layer) => {
  describe.each(USERS)('$id', (user) => {
    it.each(RELATION_FILTERS)('%s', async (_, table, plural, where, sql) => {
      const expected = await t.db.sql.query(
        `select id from "${table}" o where ${visible(user, table)} and ${oracle(user, sql)} order by id`,
      );
      const { t: gateway, callerOf: callerIn } = layers.get(layer)!;
      const result = await gateway.execute(
        parse(
          `{ ${plural}(where: ${where}, limit: 1000, orderBy: [{ id: ASC }]) { id } ${plural}Count(where: ${where}) }`,
        ) as never,
        {},
        callerIn(user.id),
      );
      expect(result.errors).toBeUndefined();
      const data = result.data as Record<string, unknown>;
      const ids = expected.rows.map((row) => String(row.id));
      expect((data[plural] as { id: string }[]).map((row) => row.id)).toEqual(ids);
      expect(data[`${plural}Count`]).toBe(ids.length);
    });
  });
});

describe('relation filters', () => {
  it('see only readable rows: the hidden department a non-manager cannot see never matches', async () => {
    const [u1, u2] = [USERS.find((u) => u.id === 'u1')!, USERS.find((u) => u.id === 'u2')!];
    const where = '{ worksForDepartment: { securityLevel: { gt: 0 } } }';
    const restricted = await t.db.sql.query(
      `select count(*)::int as n from employee e join department d on d.id = e.works_for_department_id where d.security_level > 0 and ${visible(u1, 'employee').replace(/\b(region|client_id)\b/g, 'e.$1')}`,
    );
    // The test has teeth: u1 can see employees whose department is restricted, and u2 (a manager)
    // finds them through the filter, u1 does not.
    expect(restricted.rows[0].n).toBeGreaterThan(0);
    expect(await as(u1, `{ employeesCount(where: ${where}) }`)).toEqual({ employeesCount: 0 });
    expect(((await as(u2, `{ employeesCount(where: ${where}) }`)).employeesCount as number) > 0).toBe(true);
  });

  it('refuse a field the user may not read, inside them too', async () => {
    for (const query of [
      '{ departments(where: { employees: { some: { salary: { gt: 0 } } } }) { id } }',
      '{ orders(where: { employee: { salary: { gt: 0 } } }) { id } }',
      '{ departmentsCount(where: { NOT: { employees: { every: { salary: { lt: 1 } } } } }) }',
    ]) {
      const result = await t.execute(parse(query) as never, {}, callerOf('u1'));
      expect(
        result.errors?.map((error) => error.extensions?.code),
        query,
      ).toEqual(['FORBIDDEN']);
      expect(result.data, query).toBeNull();
    }
    const manager = await t.execute(
      parse('{ departments(where: { employees: { some: { salary: { gt: 0 } } } }) { id } }') as never,
      {},
      callerOf('u2'),
    );
    expect(manager.errors).toBeUndefined();
  });

  it('compile into the one statement of their root field', async () => {
    const result = await t.executeCountingSql(
      parse(
        '{ customers(where: { orders: { some: { details: { some: { quantity: { gt: 10 } } } } } }, limit: 5) { id orders(where: { employee: { country: { eq: "UK" } } }) { id } } }',
      ) as never,
      {},
      callerOf('u1'),
    );
    expect(result.errors).toBeUndefined();
    expect(result.statements.filter((statement) => /^select to_json/.test(statement))).toHaveLength(1);
  });

  it("the demo's typed operations answer as SQL does", async () => {
    const u1 = USERS.find((user) => user.id === 'u1')!;
    const customers = await t.execute(
      CustomersByTheirOrdersDocument,
      { some: { freight: { gt: 100 } }, none: { shipCountry: { eq: 'UK' } } },
      callerOf('u1'),
    );
    const expected = await t.db.sql.query(
      `select id from customer o where ${visible(u1, 'customer')} and ${oracle(u1, `exists (select 1 from "order" where customer_id = o.id and freight > 100 and VISIBLE(order)) and not exists (select 1 from "order" where customer_id = o.id and ship_country = 'UK' and VISIBLE(order))`)} order by id`,
    );
    expect(customers.data?.customers.map((customer) => customer.id)).toEqual(
      expected.rows.map((row) => row.id),
    );
    expect(expected.rows.length).toBeGreaterThan(0);
    const orders = await t.execute(OrdersOfCustomersInDocument, { country: 'UK' }, callerOf('u1'));
    expect(orders.data?.orders.length).toBeGreaterThan(0);
    expect(orders.data?.orders.every((order) => order.customer?.country === 'UK')).toBe(true);
  });

  it('refuse bad input in one line', async () => {
    for (const [query, message] of [
      ['{ customers(where: { orders: { some: null } }) { id } }', 'orders.some must be a condition on Order'],
      [
        '{ customers(where: { orders: null }) { id } }',
        'orders must be a condition on Order ({ some }, { every } or { none })',
      ],
    ]) {
      const result = await t.execute(parse(query!) as never, {}, callerOf('u1'));
      expect(result.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([
        ['BAD_USER_INPUT', message],
      ]);
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
