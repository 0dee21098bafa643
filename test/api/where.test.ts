import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownDomain } from '../helpers/own-domain.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { MEMBERS, VISITS, whereDomain } from './where-domain.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ empty: true, prepare: true, domain: await ownDomain(whereDomain) });
});
afterAll(() => t?.close());

type Where = Record<string, unknown>;
type OrderBy = Record<string, 'ASC' | 'DESC'>[];
interface ListVariables extends Record<string, unknown> {
  where?: Where;
  orderBy?: OrderBy;
  limit?: number;
  offset?: number;
}

/** `<plural>(where, orderBy, limit, offset) { id }` and `<plural>Count(where)` of one entity. */
function listDocument<Plural extends string>(entity: string, plural: Plural) {
  return parse(`query ($where: ${entity}Where, $orderBy: [${entity}OrderBy!], $limit: Int, $offset: Int) {
    ${plural}(where: $where, orderBy: $orderBy, limit: $limit, offset: $offset) { id }
    ${plural}Count(where: $where)
  }`) as TypedDocumentNode<
    Record<Plural, { id: string }[]> & Record<`${Plural}Count`, number>,
    ListVariables
  >;
}

const ListMembers = listDocument('Member', 'members');
const ListVisits = listDocument('Visit', 'visits');
const ListRooms = listDocument('Room', 'rooms');
const ListVisitIds = parse(
  'query ($limit: Int, $offset: Int) { visits(limit: $limit, offset: $offset) { id } }',
) as TypedDocumentNode<{ visits: { id: string }[] }, { limit?: number; offset?: number }>;

/** The ids SQL itself selects with `predicate`: the expectation never comes from the gateway. */
async function idsWhere(table: string, predicate: string, orderBy = 'id'): Promise<string[]> {
  const { rows } = await t.db.sql.query(
    `select id from "${table}" where ${predicate} order by ${orderBy} limit 1000`,
  );
  return rows.map((row) => String(row.id));
}

const memberCases: [name: string, where: Where, predicate: string][] = [
  ['String eq', { team: { eq: 'North' } }, `team = 'North'`],
  ['String ne (nulls do not match)', { team: { ne: 'North' } }, `team <> 'North'`],
  ['String gt', { name: { gt: 'M' } }, `name > 'M'`],
  ['String gte', { id: { gte: 'M040' } }, `id >= 'M040'`],
  ['String lt', { name: { lt: 'C' } }, `name < 'C'`],
  ['String lte', { id: { lte: 'M012' } }, `id <= 'M012'`],
  ['String in', { id: { in: ['M001', 'M002', 'NOPE1'] } }, `id in ('M001', 'M002')`],
  ['String nin', { team: { nin: ['North', 'South'] } }, `team not in ('North', 'South')`],
  ['String like', { name: { like: '%Foods%' } }, `name like '%Foods%'`],
  ['String like is case-sensitive', { name: { like: '%foods%' } }, `name like '%foods%'`],
  ['String ilike', { name: { ilike: '%FOODS%' } }, `name ilike '%foods%'`],
  ['String isNull true', { nickname: { isNull: true } }, 'nickname is null'],
  ['String isNull false', { team: { isNull: false } }, 'team is not null'],
  ['Float gt', { score: { gt: 300 } }, 'score > 300'],
  ['Float gte + lte on one field', { score: { gte: 250, lte: 500 } }, 'score between 250 and 500'],
  ['Float lt', { balance: { lt: 1000.5 } }, 'balance < 1000.5'],
  ['Float in', { score: { in: [100, 750.0] } }, 'score in (100, 750)'],
  ['Float nin', { score: { nin: [100, 200] } }, 'score not in (100, 200)'],
  ['Float isNull', { score: { isNull: true } }, 'score is null'],
  ['Int eq', { level: { eq: 2 } }, 'level = 2'],
  ['Int ne (nulls do not match)', { level: { ne: 2 } }, 'level <> 2'],
  ['Int in', { level: { in: [1, 3] } }, 'level in (1, 3)'],
  ['Int nin', { level: { nin: [1] } }, 'level not in (1)'],
  ['Int isNull', { level: { isNull: true } }, 'level is null'],
  ['empty in matches nothing', { id: { in: [] } }, 'false'],
  ['AND', { AND: [{ level: { eq: 2 } }, { team: { eq: 'North' } }] }, `level = 2 and team = 'North'`],
  ['OR', { OR: [{ score: { gt: 300 } }, { nickname: { eq: 'Mike' } }] }, `score > 300 or nickname = 'Mike'`],
  ['NOT', { NOT: { level: { eq: 1 } } }, 'not (level = 1)'],
  [
    'nested AND/OR/NOT next to plain fields',
    {
      level: { eq: 2 },
      team: { eq: 'North' },
      // M038 is a North member of level 2 called Mike: the NOT alone leaves it out.
      OR: [{ score: { gt: 300 } }, { AND: [{ nickname: { eq: 'Mike' } }, { NOT: { id: { eq: 'M038' } } }] }],
    },
    `level = 2 and team = 'North' and (score > 300 or (nickname = 'Mike' and not id = 'M038'))`,
  ],
  ['empty OR matches nothing', { OR: [] }, 'false'],
  ['empty AND matches everything', { AND: [] }, 'true'],
];

describe('where on members', () => {
  it.each(memberCases)('%s', async (_name, where, predicate) => {
    const result = await t.execute(ListMembers, { where, limit: 1000 });
    expect(result.errors).toBeUndefined();
    const expected = await idsWhere('member', predicate);
    expect(result.data!.members.map((m) => m.id)).toEqual(expected);
    expect(result.data!.membersCount).toBe(expected.length);
  });

  it('the cases are not vacuous: most select some rows but not all', async () => {
    const total = (await idsWhere('member', 'true')).length;
    let partial = 0;
    for (const [, , predicate] of memberCases) {
      const n = (await idsWhere('member', predicate)).length;
      if (n > 0 && n < total) partial++;
    }
    expect(partial).toBeGreaterThanOrEqual(memberCases.length - 4);
  });
});

describe('where on other scalar kinds and foreign keys', () => {
  const visitCases: [string, Where, string][] = [
    [
      'DateTime gte/lt',
      { startedAt: { gte: '2025-01-01T00:00:00Z', lt: '2025-03-01T00:00:00Z' } },
      `started_at >= '2025-01-01T00:00:00Z' and started_at < '2025-03-01T00:00:00Z'`,
    ],
    ['DateTime isNull', { endedAt: { isNull: true } }, 'ended_at is null'],
    ['DateTime eq', { startedAt: { eq: '2024-01-01T00:00:00.000Z' } }, `started_at = '2024-01-01T00:00:00Z'`],
    ['to-one key eq', { memberId: { eq: 'M001' } }, `member_id = 'M001'`],
    ['to-one key in', { roomId: { in: [1, 2] } }, 'room_id in (1, 2)'],
    ['Int primary key lt', { id: { lt: 20 } }, 'id < 20'],
  ];
  it.each(visitCases)('visits: %s', async (_name, where, predicate) => {
    const result = await t.execute(ListVisits, { where, limit: 1000 });
    expect(result.errors).toBeUndefined();
    const expected = await idsWhere('visit', predicate);
    expect(result.data!.visits.map((v) => v.id)).toEqual(expected);
    expect(result.data!.visitsCount).toBe(expected.length);
  });

  const roomCases: [string, Where, string][] = [
    ['Boolean eq', { closed: { eq: true } }, 'closed'],
    ['Boolean ne', { closed: { ne: true } }, 'not closed'],
    ['Float on a non-null column', { rate: { gte: 50 } }, 'rate >= 50'],
    ['to-one key isNull', { buildingId: { isNull: false } }, 'building_id is not null'],
  ];
  it.each(roomCases)('rooms: %s', async (_name, where, predicate) => {
    const result = await t.execute(ListRooms, { where, limit: 1000 });
    expect(result.errors).toBeUndefined();
    expect(result.data!.rooms.map((r) => r.id)).toEqual(await idsWhere('room', predicate));
  });
});

describe('orderBy', () => {
  it('sorts by several keys in order, with the primary key as the final tie-breaker', async () => {
    const result = await t.execute(ListMembers, {
      orderBy: [{ level: 'DESC' }, { team: 'ASC' }],
      limit: 1000,
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!.members.map((m) => m.id)).toEqual(
      await idsWhere('member', 'true', 'level desc, team asc, id asc'),
    );
  });

  it('sorts by a to-one key and by a float descending', async () => {
    const result = await t.execute(ListVisits, {
      orderBy: [{ memberId: 'ASC' }, { fee: 'DESC' }],
      limit: 50,
    });
    expect(result.data!.visits.map((v) => v.id)).toEqual(
      (await idsWhere('visit', 'true', 'member_id asc, fee desc, id asc')).slice(0, 50),
    );
  });

  it('refuses an entry that sets no field or more than one', async () => {
    for (const orderBy of [[{}], [{ id: 'ASC', team: 'DESC' }]] as OrderBy[]) {
      const result = await t.execute(ListMembers, { orderBy });
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toMatch(/exactly one field/);
    }
  });
});

describe('limit and offset', () => {
  it('default to 100 rows from the start', async () => {
    const result = await t.execute(ListVisits, {});
    expect(result.data!.visits).toHaveLength(100);
    expect(result.data!.visits.map((v) => v.id)).toEqual((await idsWhere('visit', 'true')).slice(0, 100));
    expect(result.data!.visitsCount).toBeGreaterThan(100);
  });

  it('page through the rows without gaps or overlaps', async () => {
    const pages: string[] = [];
    for (let offset = 0; offset < MEMBERS.length; offset += 25) {
      const page = await t.execute(ListMembers, { orderBy: [{ name: 'ASC' }], limit: 25, offset });
      pages.push(...page.data!.members.map((m) => m.id));
    }
    expect(pages).toEqual(await idsWhere('member', 'true', 'name, id'));
  });

  it('accept 0 and 1000', async () => {
    expect((await t.execute(ListVisits, { limit: 0 })).data!.visits).toEqual([]);
    expect((await t.execute(ListVisits, { limit: 1000 })).data!.visits).toHaveLength(VISITS.length);
  });

  it.each([
    [{ limit: 1001 }, /limit must be between 0 and 1000/],
    [{ limit: -1 }, /limit must be between 0 and 1000/],
    [{ offset: -5 }, /offset must not be negative/],
  ])('refuse %o with BAD_USER_INPUT and run no SQL', async (args, message) => {
    const result = await t.executeCountingSql(ListVisitIds, args);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toMatch(message);
    expect(result.statements).toEqual([]);
  });
});
