import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  CustomerOrderTotalsDocument,
  FreightByCountryDocument,
  OrderTotalsDocument,
} from '../../demo/northwind/__generated__/graphql.js';
import { type DemoUser, LAYERS, layerGateways, USERS, visible } from './demo-oracle.js';

/**
 * Aggregates and groups (SPEC §11) against the demo oracle (demo-oracle.ts): for every demo user, in
 * both layers and in each alone, they count, sum and group exactly the rows the user may read — and a
 * group by a relation id groups the rows whose related row is hidden under null, as they sort.
 */

const layers = layerGateways();
const { run } = layers;

async function answer(layer: string, user: DemoUser, query: string) {
  const result = await run(layer, user, query);
  expect(result.errors, query).toBeUndefined();
  return result.data as Record<string, unknown>;
}

const sqlRows = async (query: string) =>
  (await layers.both.db.sql.query(query)).rows as Record<string, unknown>[];

const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)$/;

/**
 * An answer made comparable with what the driver gives: floats summed in another order may differ in
 * the last digits, and a timestamp is one instant however it is written.
 */
const normal = (value: unknown): unknown => {
  if (typeof value === 'number') return Math.round(value * 1e6) / 1e6;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' && ISO_TIMESTAMP.test(value)) return new Date(value).toISOString();
  if (Array.isArray(value)) return value.map(normal);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, each]) => [key, normal(each)]));
  return value;
};

/** The order's customer as the user sees it: its id where visible, else null. */
const seenCustomer = (user: DemoUser) =>
  `case when customer_id in (select id from customer where ${visible(user, 'customer')}) then customer_id end`;

describe.each(LAYERS.map(([name]) => name))('aggregates under %s', (layer) => {
  describe.each(USERS)('$id', (user) => {
    it('over a list: count, sum, avg, min and max of the visible rows, with a where', async () => {
      const where = '{ freight: { gt: 10 } }';
      const data = await answer(
        layer,
        user,
        `{ ordersAggregate(where: ${where}) { count sum { freight amountTotal } avg { freight } min { orderDate freight shipCountry } max { orderDate shipCountry } } }`,
      );
      const [expected] = await sqlRows(
        `select count(*)::int as count, sum(freight) as "sumFreight", sum(amount_total) as "sumAmount", avg(freight) as "avgFreight",
           min(order_date) as "minDate", min(freight) as "minFreight", min(ship_country) as "minCountry",
           max(order_date) as "maxDate", max(ship_country) as "maxCountry"
         from "order" where freight > 10 and ${visible(user, 'order')}`,
      );
      expect(normal(data.ordersAggregate)).toEqual(
        normal({
          count: expected!.count,
          sum: { freight: expected!.sumFreight, amountTotal: expected!.sumAmount },
          avg: { freight: expected!.avgFreight },
          min: {
            orderDate: expected!.minDate,
            freight: expected!.minFreight,
            shipCountry: expected!.minCountry,
          },
          max: { orderDate: expected!.maxDate, shipCountry: expected!.maxCountry },
        }),
      );
    });

    it('per parent: each visible customer’s visible orders, matching the relation’s where', async () => {
      const data = await answer(
        layer,
        user,
        '{ customers(limit: 1000, orderBy: [{ id: ASC }]) { id ordersAggregate(where: { shipCountry: { ne: "USA" } }) { count sum { freight } max { orderDate } } } }',
      );
      const expected = await sqlRows(
        `select c.id, a.count, a.sum, a.max from customer c,
           lateral (select count(*)::int as count, sum(freight) as sum, max(order_date) as max from "order"
                    where customer_id = c.id and ship_country <> 'USA' and ${visible(user, 'order')}) a
         where ${visible(user, 'customer')} order by c.id`,
      );
      expect(normal(data.customers)).toEqual(
        normal(
          expected.map((row) => ({
            id: row.id,
            ordersAggregate: { count: row.count, sum: { freight: row.sum }, max: { orderDate: row.max } },
          })),
        ),
      );
    });

    it('grouped: by a column and by a relation id (a hidden customer’s orders group under null), with having', async () => {
      const data = await answer(
        layer,
        user,
        `{ byCountry: ordersGroupBy(by: [shipCountry], orderBy: [{ key: { shipCountry: ASC } }], limit: 1000) { key { shipCountry } count sum { freight } }
           byCustomer: ordersGroupBy(by: [customerId], having: { count: { gte: 2 } }, orderBy: [{ count: DESC }], limit: 1000) { key { customerId } count } }`,
      );
      const byCountry = await sqlRows(
        `select ship_country, count(*)::int as count, sum(freight) as sum from "order"
         where ${visible(user, 'order')} group by ship_country order by ship_country asc`,
      );
      expect(normal(data.byCountry)).toEqual(
        normal(
          byCountry.map((row) => ({
            key: { shipCountry: row.ship_country },
            count: row.count,
            sum: { freight: row.sum },
          })),
        ),
      );
      const byCustomer = await sqlRows(
        `select ${seenCustomer(user)} as customer, count(*)::int as count from "order"
         where ${visible(user, 'order')} group by 1 having count(*) >= 2 order by count desc, 1 asc`,
      );
      expect(data.byCustomer).toEqual(
        byCustomer.map((row) => ({ key: { customerId: row.customer }, count: row.count })),
      );
    });
  });
});

describe('aggregates refuse what the caller may not read', () => {
  const u1 = USERS.find((user) => user.id === 'u1')!;
  const u2 = USERS.find((user) => user.id === 'u2')!;

  it.each([
    ['a sum', '{ employeesAggregate { sum { salary } } }'],
    ['a least value', '{ employeesAggregate { count min { salary } } }'],
    ['a nested aggregate', '{ departments { id employeesAggregate { avg { salary } } } }'],
    ['a group key', '{ employeesGroupBy(by: [salary]) { count } }'],
    ['a having', '{ employeesGroupBy(by: [country], having: { max: { salary: { gt: 0 } } }) { count } }'],
    ['a group order', '{ employeesGroupBy(by: [country], orderBy: [{ sum: { salary: DESC } }]) { count } }'],
    [
      'a relation filter',
      '{ departmentsAggregate(where: { employees: { some: { salary: { gt: 0 } } } }) { count } }',
    ],
  ])('%s over Employee.salary is FORBIDDEN to u1, answered for a manager', async (_, query) => {
    const refused = await run('both layers', u1, query);
    const codes = refused.errors?.map((error) => error.extensions?.code);
    expect(codes, query).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(refused.data ?? null)).not.toMatch(/salary|"sum"|"min"|"avg"/);
    expect((await run('both layers', u2, query)).errors, query).toBeUndefined();
  });

  it('noAggregates(Employee, sales) withholds them from s1, who still lists and counts employees', async () => {
    const s1 = USERS.find((user) => user.id === 's1')!;
    for (const query of [
      '{ employeesAggregate { count } }',
      '{ employeesGroupBy(by: [country]) { count } }',
      '{ departments { id employeesAggregate { count } } }',
    ]) {
      const refused = await run('both layers', s1, query);
      expect(
        refused.errors?.map((error) => [error.extensions?.code, error.message]),
        query,
      ).toEqual([
        ['FORBIDDEN', 'User s1 with roles [sales] does not have aggregate access on entity: Employee'],
      ]);
    }
    const listed = await answer(
      'both layers',
      s1,
      '{ employees { id } employeesCount ordersAggregate { count } }',
    );
    expect(listed.employeesCount).toBe((listed.employees as unknown[]).length);
    expect(listed.employeesCount).toBeGreaterThan(0);
  });

  it('a hidden customer never adds to its group: u1 sees no customer id of another tenant', async () => {
    const data = await answer(
      'both layers',
      u1,
      '{ ordersGroupBy(by: [customerId], limit: 1000) { key { customerId } count } }',
    );
    const theirs = await sqlRows(`select id from customer where not (${visible(u1, 'customer')})`);
    const seen = new Set(
      (data.ordersGroupBy as { key: { customerId: string | null } }[]).map((g) => g.key.customerId),
    );
    expect(theirs.length).toBeGreaterThan(0);
    for (const row of theirs) expect(seen.has(row.id as string)).toBe(false);
  });
});

describe('aggregates and groups', () => {
  const u1 = USERS.find((user) => user.id === 'u1')!;

  it('compile into one statement per root field, nested aggregates included', async () => {
    for (const query of [
      '{ ordersAggregate(where: { customer: { country: { eq: "UK" } } }) { count sum { freight } } }',
      '{ ordersGroupBy(by: [shipCountry, employeeId], having: { sum: { freight: { gt: 10 } } }) { key { shipCountry employeeId } count avg { freight } } }',
      '{ customers(limit: 50) { id ordersAggregate { count max { orderDate } } orders(limit: 2) { id detailsAggregate { sum { quantity } } } } }',
    ]) {
      const result = await layers.both.executeCountingSql(
        parse(query) as never,
        {},
        layers.get('both layers')!.callerOf('u1'),
      );
      expect(result.errors, query).toBeUndefined();
      expect(
        result.statements.filter((statement) => /^select/.test(statement)),
        query,
      ).toHaveLength(1);
    }
  });

  it("the demo's typed operations answer as SQL does", async () => {
    const caller = layers.get('both layers')!.callerOf('u1');
    const totals = await layers.both.execute(
      OrderTotalsDocument,
      { where: { shipCountry: { eq: 'Germany' } } },
      caller,
    );
    const [sql] = await sqlRows(
      `select count(*)::int as count, sum(freight) as sum from "order" where ship_country = 'Germany' and ${visible(u1, 'order')}`,
    );
    expect(totals.data?.ordersAggregate.count).toBe(sql!.count);
    expect(normal(totals.data?.ordersAggregate.sum?.freight)).toBe(normal(sql!.sum));
    const groups = await layers.both.execute(
      FreightByCountryDocument,
      { having: { count: { gt: 10 } } },
      caller,
    );
    const countries = await sqlRows(
      `select ship_country from "order" where ${visible(u1, 'order')} group by 1 having count(*) > 10 order by sum(freight) desc, 1`,
    );
    expect(groups.data?.ordersGroupBy.map((group) => group.key.shipCountry)).toEqual(
      countries.map((row) => row.ship_country),
    );
    const perCustomer = await layers.both.execute(CustomerOrderTotalsDocument, {}, caller);
    expect(perCustomer.data?.customers.length).toBeGreaterThan(0);
    const counted = perCustomer.data?.customers.reduce(
      (sum, customer) => sum + customer.ordersAggregate.count,
      0,
    );
    const [all] = await sqlRows(
      `select count(*)::int as n from "order" where customer_id in (select id from customer where ${visible(u1, 'customer')}) and ${visible(u1, 'order')}`,
    );
    expect(counted).toBe(all!.n);
  });

  it('over no rows: count 0 and every other aggregate null', async () => {
    const data = await answer(
      'both layers',
      u1,
      '{ ordersAggregate(where: { freight: { lt: -1 } }) { count sum { freight } avg { freight } min { orderDate } max { shipCountry } } ordersGroupBy(by: [shipCountry], where: { freight: { lt: -1 } }) { count } }',
    );
    expect(data).toEqual({
      ordersAggregate: {
        count: 0,
        sum: { freight: null },
        avg: { freight: null },
        min: { orderDate: null },
        max: { shipCountry: null },
      },
      ordersGroupBy: [],
    });
  });

  it('refuse bad input in one line', async () => {
    for (const [query, message] of [
      ['{ ordersGroupBy(by: []) { count } }', 'by must name at least one field'],
      ['{ ordersGroupBy(by: [shipCountry]) { key { shipCity } } }', 'key.shipCity: shipCity is not among by'],
      [
        '{ ordersGroupBy(by: [shipCountry], orderBy: [{ key: { shipCity: ASC } }]) { count } }',
        'orderBy key.shipCity: shipCity is not among by',
      ],
      [
        '{ ordersGroupBy(by: [shipCountry], orderBy: [{ count: ASC, sum: { freight: ASC } }]) { count } }',
        'each orderBy entry must set exactly one count, key or aggregate (got 2)',
      ],
      [
        '{ ordersGroupBy(by: [shipCountry], limit: 5000) { count } }',
        'limit must be between 0 and 1000 (got 5000)',
      ],
      [
        '{ ordersGroupBy(by: [shipCountry], having: { sum: { freight: null } }) { count } }',
        'having.sum.freight must be an operator object such as { gt: … }',
      ],
    ]) {
      const result = await run('both layers', u1, query!);
      expect(
        result.errors?.map((error) => [error.extensions?.code, error.message]),
        query,
      ).toEqual([['BAD_USER_INPUT', message]]);
    }
  });
});
