import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { OrdersPageDocument } from '../../demo/northwind/__generated__/graphql.js';
import { type DemoUser, LAYERS, layerGateways, USERS, visible } from './demo-oracle.js';

/**
 * Relay connections (SPEC §11) against the demo oracle (demo-oracle.ts): for every demo user, in both
 * layers and in each alone, paging forwards and backwards through a connection visits exactly the
 * rows the user may read, in the order SQL gives them, each once; cursors are positions only, sealed.
 */

const layers = layerGateways();
const { run } = layers;

async function answer(layer: string, user: DemoUser | string, query: string, variables = {}) {
  const result = await run(layer, user, query, variables);
  expect(result.errors, query).toBeUndefined();
  return result.data as Record<string, Connection>;
}

interface Connection {
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: number;
}

const sqlIds = async (query: string) =>
  (await layers.both.db.sql.query(query)).rows.map((row: Record<string, unknown>) => String(row.id));

const PAGE = `edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } totalCount`;

/** Every page of a connection, forwards (`first`/`after`) or backwards (`last`/`before`). */
async function allPages(
  layer: string,
  user: DemoUser | string,
  field: string,
  orderBy: string,
  backward: boolean,
) {
  const pages: Connection[] = [];
  let cursor: string | null = null;
  do {
    const data: Record<string, Connection> = await answer(
      layer,
      user,
      `query ($cursor: String) { page: ${field}(${backward ? 'last: 7, before' : 'first: 7, after'}: $cursor, orderBy: ${orderBy}) { ${PAGE} } }`,
      { cursor },
    );
    pages.push(data.page!);
    cursor = backward ? data.page!.pageInfo.startCursor : data.page!.pageInfo.endCursor;
    expect(pages.length).toBeLessThan(200);
  } while (backward ? pages.at(-1)!.pageInfo.hasPreviousPage : pages.at(-1)!.pageInfo.hasNextPage);
  return pages;
}

describe.each(LAYERS.map(([name]) => name))('connections under %s', (layer) => {
  describe.each(USERS)('$id', (user) => {
    it('page forwards and backwards through exactly the visible rows, nulls where SQL sorts them', async () => {
      // ship_region is null for most orders: the order by it puts them last, ascending.
      const expected = await sqlIds(
        `select id from "order" where ${visible(user, 'order')} order by ship_region asc, id asc`,
      );
      const forwards = await allPages(layer, user, 'ordersConnection', '[{ shipRegion: ASC }]', false);
      expect(forwards.flatMap((page) => page.edges.map((edge) => edge.node.id))).toEqual(expected);
      for (const page of forwards) expect(page.totalCount).toBe(expected.length);
      expect(forwards[0]!.pageInfo.hasPreviousPage).toBe(false);
      expect(forwards.slice(1).every((page) => page.pageInfo.hasPreviousPage)).toBe(true);

      const backwards = await allPages(layer, user, 'ordersConnection', '[{ shipRegion: ASC }]', true);
      expect(backwards.reverse().flatMap((page) => page.edges.map((edge) => edge.node.id))).toEqual(expected);
      expect(backwards.at(-1)!.pageInfo.hasNextPage).toBe(false);
    });

    it('page a descending order on a relation id, a hidden customer sorting as null, the key descending too', async () => {
      const expected = await sqlIds(
        `select id from "order" where ${visible(user, 'order')}
         order by case when customer_id in (select id from customer where ${visible(user, 'customer')}) then customer_id end desc, id desc`,
      );
      const pages = await allPages(layer, user, 'ordersConnection', '[{ customerId: DESC }]', false);
      expect(pages.flatMap((page) => page.edges.map((edge) => edge.node.id))).toEqual(expected);
    });

    it('per parent: each visible customer’s visible orders, a page of them', async () => {
      const data = await answer(
        layer,
        user,
        `{ customers(limit: 1000, orderBy: [{ id: ASC }]) { id ordersConnection(first: 2, orderBy: [{ freight: DESC }]) { edges { node { id } } pageInfo { hasNextPage } totalCount } } }`,
      );
      const { rows } = await layers.both.db.sql.query(
        `select c.id, array(select id::text from "order" where customer_id = c.id and ${visible(user, 'order')} order by freight desc, id desc) as orders
         from customer c where ${visible(user, 'customer')} order by c.id`,
      );
      expect(data.customers).toEqual(
        rows.map((row: { id: string; orders: string[] }) => ({
          id: row.id,
          ordersConnection: {
            edges: row.orders.slice(0, 2).map((id) => ({ node: { id } })),
            pageInfo: { hasNextPage: row.orders.length > 2 },
            totalCount: row.orders.length,
          },
        })),
      );
    });
  });
});

describe('cursors', () => {
  const u1 = USERS.find((user) => user.id === 'u1')!;
  const u2 = USERS.find((user) => user.id === 'u2')!;
  const first = async (user: DemoUser, orderBy = '[{ freight: DESC }]') =>
    (
      await answer(
        'both layers',
        user,
        `{ page: ordersConnection(first: 3, orderBy: ${orderBy}) { ${PAGE} } }`,
      )
    ).page!;

  it('in another user’s hands yield that user’s rows after the position, and nothing of the first user', async () => {
    const page = await first(u1);
    const last = page.edges.at(-1)!.node.id;
    const { rows } = await layers.both.db.sql.query('select freight from "order" where id = $1', [last]);
    const freight = rows[0].freight as number;
    const data = await answer(
      'both layers',
      u2,
      `query ($after: String) { page: ordersConnection(first: 50, after: $after, orderBy: [{ freight: DESC }]) { edges { node { id } } } }`,
      { after: page.pageInfo.endCursor },
    );
    const expected = await sqlIds(
      `select id from "order" where ${visible(u2, 'order')} and (freight < ${freight} or (freight = ${freight} and id < ${last}))
       order by freight desc, id desc limit 50`,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(data.page!.edges.map((edge) => edge.node.id)).toEqual(expected);
  });

  it('are opaque: a manager’s cursor in an order by salary tells no salary to whoever holds it', async () => {
    const data = await answer(
      'both layers',
      u2,
      '{ page: employeesConnection(first: 1, orderBy: [{ salary: DESC }]) { edges { cursor node { salary } } } }',
    );
    const edge = (data.page as unknown as { edges: { cursor: string; node: { salary: number } }[] })
      .edges[0]!;
    expect(edge.node.salary).toBeGreaterThan(0);
    const inside = Buffer.from(edge.cursor, 'base64url').toString('latin1');
    expect(inside).not.toContain(String(edge.node.salary));
    expect(edge.cursor).not.toContain(String(edge.node.salary));
    // In u1's hands: the order by salary is refused, and any other order does not take it.
    for (const [orderBy, code] of [
      ['[{ salary: DESC }]', 'FORBIDDEN'],
      ['[{ lastName: DESC }]', 'BAD_USER_INPUT'],
    ]) {
      const result = await run(
        'both layers',
        u1,
        `query ($after: String) { employeesConnection(after: $after, orderBy: ${orderBy}) { totalCount } }`,
        { after: edge.cursor },
      );
      expect(result.errors?.map((error) => error.extensions?.code)).toEqual([code]);
    }
  });

  it('altered, malformed or taken from another order are BAD_USER_INPUT before any SQL', async () => {
    const cursor = (await first(u1)).pageInfo.endCursor!;
    const bytes = Buffer.from(cursor, 'base64url');
    const flipped = (at: number) => {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ 1;
      return copy.toString('base64url');
    };
    const otherOrder = (await first(u1, '[{ shipCity: ASC }]')).pageInfo.endCursor!;
    for (const [argument, bad] of [
      ['after', flipped(bytes.length - 1)],
      ['after', flipped(0)],
      ['after', flipped(14)],
      ['before', cursor.slice(0, -4)],
      ['after', ''],
      ['after', 'not a cursor'],
      ['after', `${cursor}.${cursor}`],
      ['after', Buffer.alloc(60, 7).toString('base64url')],
      ['after', 'x'.repeat(10_000)],
      ['after', otherOrder],
    ] as const) {
      const result = await layers.both.executeCountingSql(
        parse(
          `query ($cursor: String) { ordersConnection(first: 2, ${argument}: $cursor, orderBy: [{ freight: DESC }]) { edges { cursor } } }`,
        ) as never,
        { cursor: bad },
        layers.get('both layers')!.callerOf('u1'),
      );
      expect(
        result.errors?.map((error) => [error.extensions?.code, error.message]),
        bad.slice(0, 40),
      ).toEqual([
        [
          'BAD_USER_INPUT',
          `${argument} is not a cursor of this connection and order (take one from its edges or pageInfo)`,
        ],
      ]);
      expect(result.statements.filter((statement) => /^select/.test(statement))).toEqual([]);
    }
  });

  it('keep their place under inserts: the next page neither repeats nor skips a row', async () => {
    const before = await first(u1, '[{ id: ASC }]');
    const ids = before.edges.map((edge) => Number(edge.node.id));
    const customer = (await layers.both.db.sql.query(`select id from customer where client_id = 1 limit 1`))
      .rows[0].id;
    // A row that sorts before the cursor: an offset would now repeat the page's last row.
    const { rows } = await layers.both.db.sql.query(
      `insert into "order" (id, customer_id, freight) values (${ids[0]! - 1000000}, $1, 1) returning id`,
      [customer],
    );
    try {
      const next = await answer(
        'both layers',
        u1,
        `query ($after: String) { page: ordersConnection(first: 3, after: $after, orderBy: [{ id: ASC }]) { edges { node { id } } } }`,
        { after: before.pageInfo.endCursor },
      );
      const expected = await sqlIds(
        `select id from "order" where ${visible(u1, 'order')} and id > ${ids.at(-1)} order by id limit 3`,
      );
      expect(next.page!.edges.map((edge) => edge.node.id)).toEqual(expected);
    } finally {
      await layers.both.db.sql.query(`delete from "order" where id = $1`, [rows[0].id]);
    }
  });
});

describe('connections', () => {
  it('compile into one statement per root field, nested connections included', async () => {
    const result = await layers.both.executeCountingSql(
      parse(
        '{ customersConnection(first: 5, where: { orders: { some: { freight: { gt: 10 } } } }) { totalCount pageInfo { hasNextPage } edges { node { id ordersConnection(last: 2) { edges { node { id customer { id } } } } } } } }',
      ) as never,
      {},
      layers.get('both layers')!.callerOf('u1'),
    );
    expect(result.errors).toBeUndefined();
    expect(result.statements.filter((statement) => /^select/.test(statement))).toHaveLength(1);
  });

  it('refuse a field the user may not read in where or orderBy, and a relation below them as a list does', async () => {
    for (const query of [
      '{ employeesConnection(orderBy: [{ salary: DESC }]) { totalCount } }',
      '{ employeesConnection(where: { salary: { gt: 1 } }) { totalCount } }',
      '{ departments { id employeesConnection(orderBy: [{ salary: DESC }]) { totalCount } } }',
    ]) {
      const result = await run('both layers', 'u1', query);
      expect(
        result.errors?.map((error) => error.extensions?.code),
        query,
      ).toEqual(['FORBIDDEN']);
    }
    // A field the node may not show is refused alone, as in a list.
    const result = await run(
      'both layers',
      'u1',
      '{ employeesConnection(first: 1) { edges { node { id salary } } } }',
    );
    expect(result.errors?.map((error) => [error.extensions?.code, error.path?.join('.')])).toEqual([
      ['FORBIDDEN', 'employeesConnection.edges.0.node.salary'],
    ]);
  });

  it("the demo's typed operation pages forwards and back", async () => {
    const caller = layers.get('both layers')!.callerOf('u1');
    const first = await layers.both.execute(OrdersPageDocument, { first: 5 }, caller);
    const second = await layers.both.execute(
      OrdersPageDocument,
      { first: 5, after: first.data?.ordersConnection.pageInfo.endCursor },
      caller,
    );
    const back = await layers.both.execute(
      OrdersPageDocument,
      { last: 5, before: second.data?.ordersConnection.pageInfo.startCursor },
      caller,
    );
    const ids = (page: typeof first) => page.data?.ordersConnection.edges.map((edge) => edge.node.id);
    const expected = await sqlIds(
      `select id from "order" where ${visible(
        USERS.find((user) => user.id === 'u1')!,
        'order',
      )} order by order_date desc nulls first, id desc limit 10`,
    );
    expect([...ids(first)!, ...ids(second)!]).toEqual(expected);
    expect(ids(back)).toEqual(ids(first));
    expect(back.data?.ordersConnection.pageInfo.hasPreviousPage).toBe(false);
  });

  it('refuse bad page sizes in one line', async () => {
    for (const [query, message] of [
      ['{ ordersConnection(first: 2, last: 2) { totalCount } }', 'give first or last, not both'],
      ['{ ordersConnection(first: -1) { totalCount } }', 'first must be between 0 and 1000 (got -1)'],
      ['{ ordersConnection(last: 1001) { totalCount } }', 'last must be between 0 and 1000 (got 1001)'],
    ]) {
      const result = await run('both layers', 'u1', query!);
      expect(
        result.errors?.map((error) => [error.extensions?.code, error.message]),
        query,
      ).toEqual([['BAD_USER_INPUT', message]]);
    }
  });

  it('over no rows: no edges, null cursors, no pages either side', async () => {
    const data = await answer(
      'both layers',
      'u1',
      `{ page: ordersConnection(where: { freight: { lt: -1 } }) { ${PAGE} } }`,
    );
    expect(data.page).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
      totalCount: 0,
    });
  });
});
