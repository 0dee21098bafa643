import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownDomain } from '../helpers/own-domain.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { ledgerDomain } from './ledger-domain.js';

/**
 * Aggregates, groups and connections of the engine (SPEC §11) on a domain of their own: exact
 * arithmetic for every numeric kind, every comparable kind's least and greatest values, groups by an
 * enum, a date and a relation id, and pages over sort keys of each kind — all against SQL.
 */

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ empty: true, prepare: true, domain: await ownDomain(ledgerDomain) });
});
afterAll(() => t?.close());

async function answer(query: string, variables: Record<string, unknown> = {}) {
  const result = await t.execute(parse(query) as never, variables);
  expect(result.errors, query).toBeUndefined();
  return result.data as Record<string, unknown>;
}

const sqlRows = async (query: string) => (await t.db.sql.query(query)).rows as Record<string, unknown>[];

describe('aggregates', () => {
  it('sum and average decimals, bigints and integers exactly, as PostgreSQL does, floats as floats', async () => {
    const data = await answer(
      '{ entriesAggregate { count sum { amount units quantity rate } avg { amount units quantity rate } } }',
    );
    const [sql] = await sqlRows(
      `select count(*)::int as count, sum(amount)::text as "sumAmount", sum(units)::text as "sumUnits",
         sum(quantity)::text as "sumQuantity", sum(rate) as "sumRate", avg(amount)::text as "avgAmount",
         avg(units)::text as "avgUnits", avg(quantity)::text as "avgQuantity", avg(rate) as "avgRate" from entry`,
    );
    expect(data.entriesAggregate).toEqual({
      count: sql!.count,
      sum: { amount: sql!.sumAmount, units: sql!.sumUnits, quantity: sql!.sumQuantity, rate: sql!.sumRate },
      avg: { amount: sql!.avgAmount, units: sql!.avgUnits, quantity: sql!.avgQuantity, rate: sql!.avgRate },
    });
    // Beyond what a double holds: 9007199254740993 is not a double, and the cents add up exactly.
    expect((data.entriesAggregate as { sum: { units: string } }).sum.units).toMatch(/^\d{18,}$/);
    expect((data.entriesAggregate as { sum: { amount: string } }).sum.amount).toMatch(/\.\d\d$/);
  });

  it('least and greatest of every comparable kind: decimal, bigint, date, enum, string', async () => {
    const data = await answer(
      '{ entriesAggregate { min { amount units bookedOn side quantity } max { amount units bookedOn side rate } } accountsAggregate { min { name } max { name } } }',
    );
    const [sql] = await sqlRows(
      `select min(amount)::text as "minAmount", min(units)::text as "minUnits", to_char(min(booked_on), 'YYYY-MM-DD') as "minDate",
         min(side)::text as "minSide", min(quantity) as "minQuantity", max(amount)::text as "maxAmount", max(units)::text as "maxUnits",
         to_char(max(booked_on), 'YYYY-MM-DD') as "maxDate", max(side)::text as "maxSide", max(rate) as "maxRate",
         (select min(name) from account) as "minName", (select max(name) from account) as "maxName" from entry`,
    );
    const enumName = (value: unknown) => String(value).toUpperCase();
    expect(data).toEqual({
      entriesAggregate: {
        min: {
          amount: sql!.minAmount,
          units: sql!.minUnits,
          bookedOn: sql!.minDate,
          side: enumName(sql!.minSide),
          quantity: sql!.minQuantity,
        },
        max: {
          amount: sql!.maxAmount,
          units: sql!.maxUnits,
          bookedOn: sql!.maxDate,
          side: enumName(sql!.maxSide),
          rate: sql!.maxRate,
        },
      },
      accountsAggregate: { min: { name: sql!.minName }, max: { name: sql!.maxName } },
    });
  });

  it('per parent row, through the relation', async () => {
    const data = await answer(
      '{ accounts(orderBy: [{ id: ASC }]) { id entriesAggregate(where: { side: { eq: DEBIT } }) { count sum { amount } } } }',
    );
    const sql = await sqlRows(
      `select a.id, (select count(*)::int from entry where account_id = a.id and side = 'debit') as count,
         (select sum(amount)::text from entry where account_id = a.id and side = 'debit') as sum from account a order by a.id`,
    );
    expect(data.accounts).toEqual(
      sql.map((row) => ({ id: row.id, entriesAggregate: { count: row.count, sum: { amount: row.sum } } })),
    );
  });
});

describe('groups', () => {
  it('by an enum and a date, with having on a decimal sum, ordered by an aggregate', async () => {
    const data = await answer(
      `{ entriesGroupBy(by: [side, bookedOn], having: { sum: { amount: { gt: "1000.005" } } }, orderBy: [{ sum: { amount: DESC } }], limit: 1000) {
          key { side bookedOn } count sum { amount } max { units } } }`,
    );
    const sql = await sqlRows(
      `select side::text as side_name, to_char(booked_on, 'YYYY-MM-DD') as day, count(*)::int as count, sum(amount)::text as sum, max(units)::text as max
       from entry group by side, booked_on having sum(amount) > 1000.005
       order by sum(amount) desc, side asc, booked_on asc`,
    );
    expect(sql.length).toBeGreaterThan(3);
    expect(data.entriesGroupBy).toEqual(
      sql.map((row) => ({
        key: {
          side: row.side_name === null ? null : String(row.side_name).toUpperCase(),
          bookedOn: row.day,
        },
        count: row.count,
        sum: { amount: row.sum },
        max: { units: row.max },
      })),
    );
  });

  it('by a relation id, paged, with NOT and OR in having', async () => {
    const data = await answer(
      `{ entriesGroupBy(by: [accountId], having: { OR: [{ count: { gt: 20 } }, { NOT: { min: { quantity: { gte: 0 } } } }] }, orderBy: [{ count: ASC }], limit: 2, offset: 1) {
          key { accountId } count } }`,
    );
    const sql = await sqlRows(
      `select account_id, count(*)::int as count from entry group by account_id
       having count(*) > 20 or not (min(quantity) >= 0) order by count asc, account_id asc limit 2 offset 1`,
    );
    expect(data.entriesGroupBy).toEqual(
      sql.map((row) => ({ key: { accountId: row.account_id }, count: row.count })),
    );
  });

  it('of an entity named like another entity’s group type keep both their names', async () => {
    const data = await answer(
      '{ accountGroups { __typename label } accountsGroupBy(by: [name], limit: 1) { __typename count } }',
    );
    expect(data).toEqual({
      accountGroups: [{ __typename: 'AccountGroup', label: 'Assets' }],
      accountsGroupBy: [{ __typename: 'AccountGroup_', count: 1 }],
    });
  });
});

describe('connections', () => {
  /** Every page forwards (`first`) or backwards (`last`), as ids. */
  async function pageThrough(orderBy: string, size: number, backward: boolean) {
    const ids: string[][] = [];
    let cursor: string | null = null;
    for (;;) {
      const data = await answer(
        `query ($cursor: String) { entriesConnection(${backward ? 'last' : 'first'}: ${size}, ${backward ? 'before' : 'after'}: $cursor, orderBy: ${orderBy}) {
            edges { node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
        { cursor },
      );
      const page = data.entriesConnection as {
        edges: { node: { id: string } }[];
        pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
      };
      ids.push(page.edges.map((edge) => edge.node.id));
      if (!(backward ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage)) break;
      cursor = backward ? page.pageInfo.startCursor : page.pageInfo.endCursor;
      expect(ids.length).toBeLessThan(100);
    }
    return (backward ? ids.reverse() : ids).flat();
  }

  it.each([
    [
      'a decimal descending, with ties and nulls (the key descending too)',
      '[{ amount: DESC }]',
      'amount desc, id desc',
    ],
    ['a bigint and a date', '[{ units: ASC }, { bookedOn: DESC }]', 'units asc, booked_on desc, id desc'],
    ['an enum and a float', '[{ side: DESC }, { rate: ASC }]', 'side desc, rate asc, id asc'],
    ['a relation id', '[{ accountId: ASC }]', 'account_id asc, id asc'],
    ['the key descending', '[{ id: DESC }]', 'id desc'],
  ])('visit every row once in SQL’s order, forwards and backwards: %s', async (_, orderBy, sqlOrder) => {
    const expected = (await sqlRows(`select id from entry order by ${sqlOrder}`)).map((row) =>
      String(row.id),
    );
    expect(await pageThrough(orderBy, 8, false)).toEqual(expected);
    expect(await pageThrough(orderBy, 8, true)).toEqual(expected);
  });

  it('first: 0 and last: 0 are empty pages that still tell whether rows follow', async () => {
    const data = await answer(
      '{ a: entriesConnection(first: 0) { edges { cursor } pageInfo { hasNextPage } totalCount } b: entriesConnection(last: 0) { edges { cursor } pageInfo { hasPreviousPage } } }',
    );
    expect(data).toEqual({
      a: { edges: [], pageInfo: { hasNextPage: true }, totalCount: 90 },
      b: { edges: [], pageInfo: { hasPreviousPage: true } },
    });
  });

  it('a cursor of one entity is not one of another', async () => {
    const accounts = await answer('{ accountsConnection(first: 1) { pageInfo { endCursor } } }');
    const cursor = (accounts.accountsConnection as { pageInfo: { endCursor: string } }).pageInfo.endCursor;
    const result = await t.execute(
      parse('query ($after: String) { entriesConnection(after: $after) { totalCount } }') as never,
      { after: cursor },
    );
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});
