import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ListCustomersDocument,
  type ListCustomersQueryVariables,
  ListOrderIdsDocument,
  ListOrdersDocument,
  type ListOrdersQueryVariables,
  ListProductsDocument,
  type ListProductsQueryVariables,
} from '../../demo/northwind/__generated__/graphql.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

/** The ids SQL itself selects with `predicate`: the expectation never comes from the gateway. */
async function idsWhere(table: string, predicate: string, orderBy = 'id'): Promise<string[]> {
  const { rows } = await t.db.sql.query(
    `select id from "${table}" where ${predicate} order by ${orderBy} limit 1000`,
  );
  return rows.map((row) => String(row.id));
}

type CustomerWhere = NonNullable<ListCustomersQueryVariables['where']>;

const customerCases: [name: string, where: CustomerWhere, predicate: string][] = [
  ['String eq', { region: { eq: 'British Isles' } }, `region = 'British Isles'`],
  ['String ne (nulls do not match)', { region: { ne: 'British Isles' } }, `region <> 'British Isles'`],
  ['String gt', { companyName: { gt: 'M' } }, `company_name > 'M'`],
  ['String gte', { id: { gte: 'QAAAP' } }, `id >= 'QAAAP'`],
  ['String lt', { companyName: { lt: 'C' } }, `company_name < 'C'`],
  ['String lte', { id: { lte: 'BRIMK' } }, `id <= 'BRIMK'`],
  ['String in', { id: { in: ['ALFKI', 'ANATR', 'NOPE1'] } }, `id in ('ALFKI', 'ANATR')`],
  [
    'String nin',
    { region: { nin: ['British Isles', 'Scandinavia'] } },
    `region not in ('British Isles', 'Scandinavia')`,
  ],
  ['String like', { companyName: { like: '%Foods%' } }, `company_name like '%Foods%'`],
  ['String like is case-sensitive', { companyName: { like: '%foods%' } }, `company_name like '%foods%'`],
  ['String ilike', { companyName: { ilike: '%FOODS%' } }, `company_name ilike '%foods%'`],
  ['String isNull true', { contactName: { isNull: true } }, 'contact_name is null'],
  ['String isNull false', { region: { isNull: false } }, 'region is not null'],
  ['Float gt', { creditLimit: { gt: 300 } }, 'credit_limit > 300'],
  [
    'Float gte + lte on one field',
    { creditLimit: { gte: 250, lte: 500 } },
    'credit_limit between 250 and 500',
  ],
  ['Float lt', { balance: { lt: 1000.5 } }, 'balance < 1000.5'],
  ['Float in', { creditLimit: { in: [100, 750.0] } }, 'credit_limit in (100, 750)'],
  ['Float nin', { creditLimit: { nin: [100, 200] } }, 'credit_limit not in (100, 200)'],
  ['Float isNull', { creditLimit: { isNull: true } }, 'credit_limit is null'],
  ['Int eq', { clientId: { eq: 2 } }, 'client_id = 2'],
  ['Int ne (nulls do not match)', { clientId: { ne: 2 } }, 'client_id <> 2'],
  ['Int in', { clientId: { in: [1, 3] } }, 'client_id in (1, 3)'],
  ['Int nin', { clientId: { nin: [1] } }, 'client_id not in (1)'],
  ['Int isNull', { clientId: { isNull: true } }, 'client_id is null'],
  ['empty in matches nothing', { id: { in: [] } }, 'false'],
  [
    'AND',
    { AND: [{ clientId: { eq: 2 } }, { region: { eq: 'British Isles' } }] },
    `client_id = 2 and region = 'British Isles'`,
  ],
  [
    'OR',
    { OR: [{ creditLimit: { gt: 300 } }, { contactName: { eq: 'Mike' } }] },
    `credit_limit > 300 or contact_name = 'Mike'`,
  ],
  ['NOT', { NOT: { clientId: { eq: 1 } } }, 'not (client_id = 1)'],
  [
    'nested AND/OR/NOT next to plain fields',
    {
      clientId: { eq: 2 },
      region: { eq: 'British Isles' },
      OR: [
        { creditLimit: { gt: 300 } },
        { AND: [{ contactName: { eq: 'Mike' } }, { NOT: { id: { eq: 'THMSD' } } }] },
      ],
    },
    `client_id = 2 and region = 'British Isles' and (credit_limit > 300 or (contact_name = 'Mike' and not id = 'THMSD'))`,
  ],
  ['empty OR matches nothing', { OR: [] }, 'false'],
  ['empty AND matches everything', { AND: [] }, 'true'],
];

describe('where on customers', () => {
  it.each(customerCases)('%s', async (_name, where, predicate) => {
    const result = await t.execute(ListCustomersDocument, { where, limit: 1000 });
    expect(result.errors).toBeUndefined();
    const expected = await idsWhere('customer', predicate);
    expect(result.data!.customers.map((c) => c.id)).toEqual(expected);
    expect(result.data!.customersCount).toBe(expected.length);
  });

  it('the cases are not vacuous: most select some rows but not all', async () => {
    const total = (await idsWhere('customer', 'true')).length;
    let partial = 0;
    for (const [, , predicate] of customerCases) {
      const n = (await idsWhere('customer', predicate)).length;
      if (n > 0 && n < total) partial++;
    }
    expect(partial).toBeGreaterThanOrEqual(customerCases.length - 4);
  });
});

describe('where on other scalar kinds and foreign keys', () => {
  const orderCases: [string, NonNullable<ListOrdersQueryVariables['where']>, string][] = [
    [
      'DateTime gte/lt',
      { orderDate: { gte: '2025-01-01T00:00:00Z', lt: '2025-03-01T00:00:00Z' } },
      `order_date >= '2025-01-01' and order_date < '2025-03-01'`,
    ],
    ['DateTime isNull', { shippedDate: { isNull: true } }, 'shipped_date is null'],
    ['DateTime eq', { orderDate: { eq: '2024-01-01T00:00:00.000Z' } }, `order_date = '2024-01-01T00:00:00Z'`],
    ['to-one key eq', { customerId: { eq: 'ALFKI' } }, `customer_id = 'ALFKI'`],
    ['to-one key in', { employeeId: { in: [1, 2] } }, 'employee_id in (1, 2)'],
    ['Int primary key lt', { id: { lt: 20 } }, 'id < 20'],
  ];
  it.each(orderCases)('orders: %s', async (_name, where, predicate) => {
    const result = await t.execute(ListOrdersDocument, { where, limit: 1000 });
    expect(result.errors).toBeUndefined();
    const expected = await idsWhere('order', predicate);
    expect(result.data!.orders.map((o) => o.id)).toEqual(expected);
    expect(result.data!.ordersCount).toBe(expected.length);
  });

  const productCases: [string, NonNullable<ListProductsQueryVariables['where']>, string][] = [
    ['Boolean eq', { discontinued: { eq: true } }, 'discontinued'],
    ['Boolean ne', { discontinued: { ne: true } }, 'not discontinued'],
    ['Float on a non-null column', { unitPrice: { gte: 50 } }, 'unit_price >= 50'],
    ['to-one key isNull', { categoryId: { isNull: false } }, 'category_id is not null'],
  ];
  it.each(productCases)('products: %s', async (_name, where, predicate) => {
    const result = await t.execute(ListProductsDocument, { where, limit: 1000 });
    expect(result.errors).toBeUndefined();
    expect(result.data!.products.map((p) => p.id)).toEqual(await idsWhere('product', predicate));
  });
});

describe('orderBy', () => {
  it('sorts by several keys in order, with the primary key as the final tie-breaker', async () => {
    const result = await t.execute(ListCustomersDocument, {
      orderBy: [{ clientId: 'DESC' }, { region: 'ASC' }],
      limit: 1000,
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!.customers.map((c) => c.id)).toEqual(
      await idsWhere('customer', 'true', 'client_id desc, region asc, id asc'),
    );
  });

  it('sorts by a to-one key and by a float descending', async () => {
    const result = await t.execute(ListOrdersDocument, {
      orderBy: [{ customerId: 'ASC' }, { freight: 'DESC' }],
      limit: 50,
    });
    expect(result.data!.orders.map((o) => o.id)).toEqual(
      (await idsWhere('order', 'true', 'customer_id asc, freight desc, id asc')).slice(0, 50),
    );
  });

  it('refuses an entry that sets no field or more than one', async () => {
    for (const orderBy of [
      [{}],
      [{ id: 'ASC', region: 'DESC' }],
    ] as ListCustomersQueryVariables['orderBy'][]) {
      const result = await t.execute(ListCustomersDocument, { orderBy });
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/exactly one field/);
    }
  });
});

describe('limit and offset', () => {
  it('default to 100 rows from the start', async () => {
    const result = await t.execute(ListOrdersDocument, {});
    expect(result.data!.orders).toHaveLength(100);
    expect(result.data!.orders.map((o) => o.id)).toEqual((await idsWhere('order', 'true')).slice(0, 100));
    expect(result.data!.ordersCount).toBeGreaterThan(100);
  });

  it('page through the rows without gaps or overlaps', async () => {
    const pages: string[] = [];
    for (let offset = 0; offset < 91; offset += 25) {
      const page = await t.execute(ListCustomersDocument, {
        orderBy: [{ companyName: 'ASC' }],
        limit: 25,
        offset,
      });
      pages.push(...page.data!.customers.map((c) => c.id));
    }
    expect(pages).toEqual(await idsWhere('customer', 'true', 'company_name, id'));
  });

  it('accept 0 and 1000', async () => {
    expect((await t.execute(ListOrdersDocument, { limit: 0 })).data!.orders).toEqual([]);
    expect((await t.execute(ListOrdersDocument, { limit: 1000 })).data!.orders).toHaveLength(830);
  });

  it.each([
    [{ limit: 1001 }, /limit must be between 0 and 1000/],
    [{ limit: -1 }, /limit must be between 0 and 1000/],
    [{ offset: -5 }, /offset must not be negative/],
  ])('refuse %o with BAD_USER_INPUT and run no SQL', async (args, message) => {
    const result = await t.executeCountingSql(ListOrderIdsDocument, args);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toMatch(message);
    expect(result.statements).toEqual([]);
  });
});
