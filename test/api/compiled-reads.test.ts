import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_WORK_MEM } from '../../src/db/request-transaction.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * Reads compile into one data statement per root field (src/api/compiled-read.ts): the cost of a
 * request grows with the rows it returns, not with the depth of its document. Statement counts,
 * and the corners of the GraphQL selection the compiler must follow.
 */
let t: TestGateway;
let callerOf: (user: string) => Caller;
beforeAll(async () => {
  t = await startTestGateway();
  callerOf = await signIn(t, ['u1', 's1']);
  // The first statement of a new pool also checks the database exists; keep it out of the counts.
  await t.execute(parse('{ shippers(limit: 1) { id } }') as never);
});
afterAll(() => t?.close());

const run = (query: string, variables: Record<string, unknown> = {}, caller?: Caller) =>
  t.executeCountingSql(parse(query) as never, variables, caller) as Promise<{
    data?: Record<string, unknown> | null;
    errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: object }[];
    statements: string[];
  }>;

const sql = async <T>(query: string) => (await t.db.sql.query(query)).rows as T[];

describe('one data statement per root field', () => {
  it.each([
    ['a flat list', '{ customers(limit: 5) { id } }', 1],
    [
      'five levels down',
      '{ customers(limit: 5) { orders(limit: 20) { details(limit: 10) { product { category { id } } } } } }',
      1,
    ],
    [
      'five levels up',
      '{ orderDetails(limit: 5) { order { customer { orders(limit: 2) { employee { worksForDepartment { id } } } } } } }',
      1,
    ],
    ['by id with relations', '{ order(id: "1") { id customer { id } details { product { id } } } }', 1],
    ['three root fields', '{ a: customers(limit: 2) { id } b: orders(limit: 2) { id } c: ordersCount }', 3],
  ])('%s (u1)', async (_name, query, statements) => {
    const result = await run(query, {}, callerOf('u1'));
    expect(result.errors).toBeUndefined();
    expect(result.statements).toHaveLength(statements);
  });

  it('a mutation writes, then reads its answer back in one statement with everything it selects', async () => {
    const result = await run(
      `mutation { updateOrder(id: "1", input: { shipCity: "Reims" }) { id shipCity customer { id orders(limit: 2) { id } } details { id product { id } } } }`,
    );
    expect(result.errors).toBeUndefined();
    const reads = result.statements.filter((statement) => statement.startsWith('select to_json(array('));
    expect(reads).toHaveLength(1);
    const [row] = await sql<{ customer_id: string; ship_city: string }>(
      'select customer_id, ship_city from "order" where id = 1',
    );
    expect(result.data).toMatchObject({
      updateOrder: { id: '1', shipCity: 'Reims', customer: { id: row!.customer_id } },
    });
    expect(row!.ship_city).toBe('Reims');
  });
});

describe('a count through a scope', () => {
  const framing = async (query: string, caller: Caller) => {
    const result = (await t.executeCountingSql(parse(query) as never, {}, caller)) as {
      errors?: unknown;
      framing: string[];
    };
    expect(result.errors).toBeUndefined();
    return result.framing;
  };

  it('runs with the server’s work_mem (it visits every visible parent), and the request’s again after', async () => {
    // Orders are scoped through their customer; customers carry the tenant column.
    const scoped = await framing('{ ordersCount }', callerOf('u1'));
    expect(scoped).toContain(SERVER_WORK_MEM);
    expect(scoped.filter((statement) => statement === SERVER_WORK_MEM)).toHaveLength(1);
    expect(await framing('{ customersCount }', callerOf('u1'))).not.toContain(SERVER_WORK_MEM);
    // The superuser's rows are every row: no scope to check.
    expect(await framing('{ ordersCount }', undefined)).not.toContain(SERVER_WORK_MEM);
  });
});

describe('what the compiler follows', () => {
  it('limit 0 and offsets, at the root and nested', async () => {
    const result = await run(
      '{ none: customers(limit: 0) { id } customers(limit: 2, offset: 1, orderBy: [{ id: ASC }]) { id none: orders(limit: 0) { id } } }',
    );
    expect(result.errors).toBeUndefined();
    const ids = await sql<{ id: string }>('select id from customer order by id limit 2 offset 1');
    expect(result.data).toEqual({
      none: [],
      customers: ids.map((row) => ({ id: row.id, none: [] })),
    });
  });

  it('@skip and @include with variables, fragments and __typename', async () => {
    const result = await run(
      `query ($withOrders: Boolean!, $skipName: Boolean!) {
         customer(id: "ALFKI") { __typename ...c orders(limit: 1) @include(if: $withOrders) { __typename id } }
       }
       fragment c on Customer { id companyName @skip(if: $skipName) }`,
      { withOrders: false, skipName: true },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ customer: { __typename: 'Customer', id: 'ALFKI' } });
    expect(result.statements[0]).not.toMatch(/company_name|from "order"/);
  });

  it('an alias that names another field of the type does not shadow it', async () => {
    const result = await run(
      '{ customer(id: "ALFKI") { companyName: orders(limit: 1, orderBy: [{ id: ASC }]) { id } name: companyName } }',
    );
    expect(result.errors).toBeUndefined();
    const [customer] = await sql<{ company_name: string }>(
      "select company_name from customer where id = 'ALFKI'",
    );
    const [order] = await sql<{ id: number }>(
      'select id from "order" where customer_id = \'ALFKI\' order by id limit 1',
    );
    expect(result.data).toEqual({
      customer: { companyName: [{ id: String(order!.id) }], name: customer!.company_name },
    });
  });

  it('values from the client reach SQL only as parameters, at every level', async () => {
    const marker = "x') or 1=1 --";
    const result = await run(
      `query ($city: String!) { customers(where: { city: { eq: $city } }) { id } orders(limit: 3) { id details(where: { OR: [{ quantity: { gt: 5 } }] }) { id } customer { orders(where: { shipCity: { eq: $city } }) { id } } } }`,
      { city: marker },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data!.customers).toEqual([]);
    expect(result.statements.join('\n')).not.toMatch(/x'|or 1=1|> 5/);
  });

  it('each level carries its own row predicate: s1 sees its tenant’s rows at every depth', async () => {
    const result = await run(
      '{ categories(limit: 100) { id clientId products(limit: 100) { id category { clientId } } } }',
      {},
      callerOf('s1'),
    );
    expect(result.errors).toBeUndefined();
    const categories = result.data!.categories as {
      clientId: number;
      products: { category: { clientId: number } | null }[];
    }[];
    expect(categories.length).toBeGreaterThan(0);
    for (const category of categories) {
      expect(category.clientId).toBe(2);
      for (const product of category.products) expect(product.category?.clientId).toBe(2);
    }
    // The tenant condition stands at the root, in the products' scope and at their category.
    expect(result.statements[0]!.match(/"client_id" = (\$\d+|2)/g)!.length).toBeGreaterThanOrEqual(2);
  });
});
