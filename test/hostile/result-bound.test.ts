import { readFileSync } from 'node:fs';
import {
  buildSchema,
  type DocumentNode,
  type GraphQLInputType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  typeFromAST,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as typed from '../../demo/northwind/__generated__/graphql.js';
import { DEFAULT_MAX_RESULT_OBJECTS } from '../../src/config.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { worstCaseObjects } from '../../src/http/result-bound.js';
import { type Caller, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const schema = buildSchema(readFileSync('demo/northwind/schema.graphql', 'utf8'));
const BOUND_MESSAGE = /MAX_RESULT_OBJECTS/;
const thousands = (n: number) => n.toLocaleString('en-US');

/** A text document as the typed documents are, so the test helpers can send it. */
const gql = (query: string) => parse(query) as never;

/** The README's queries: the curl example's, and every operation of its GraphQL blocks. */
function readmeQueries(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const fromCurl = [...readme.matchAll(/-d '(\{"query":.*\})'/g)].map(
    (match) => (JSON.parse(match[1]!) as { query: string }).query,
  );
  const fromBlocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].flatMap((match) =>
    parse(match[1]!).definitions.map((definition) => print(definition)),
  );
  return [...fromCurl, ...fromBlocks];
}

/**
 * The benchmarks' GraphQL, as bench/security-overhead.ts and bench/load.ts send it (the scripts run
 * gateways when imported, so their documents are repeated here; the hostile ones of load.ts are below).
 */
const BENCH_QUERIES = [
  '{ customers(limit: 1000, orderBy: [{ id: ASC }]) { id companyName contactName creditLimit region clientId } }',
  `{ customers(limit: 1000, orderBy: [{ id: ASC }], where: { clientId: { eq: 2 }, region: { eq: "British Isles" },
     OR: [{ creditLimit: { gt: 300 } }, { contactName: { eq: "Mike" } }] }) { id companyName contactName creditLimit region clientId } }`,
  '{ orders(limit: 200, orderBy: [{ id: ASC }]) { id orderDate details(limit: 50) { id quantity } } }',
  `{ orders(limit: 200, orderBy: [{ id: ASC }], where: { customerId: { in: ["ALFKI"] } }) { id orderDate details(limit: 50) { id quantity } } }`,
  `{ customersCount(where: { clientId: { eq: 1 } })
     customers(limit: 1000, orderBy: [{ id: ASC }], where: { clientId: { eq: 1 } }) { id } }`,
  '{ customers(limit: 50) { id companyName region creditLimit clientId } }',
  '{ customersCount categoriesCount }',
  '{ customers(limit: 5) { id clientId orders(limit: 3) { id customer { id clientId } details(limit: 2) { id product { id productName } } } } }',
  '{ categories { id categoryName clientId } }',
  '{ probe: customer(id: "ALFKI") { id clientId } }',
  '{ orders(limit: 20, orderBy: [{ id: DESC }]) { id customer { id clientId } } }',
  '{ customers(limit: 1, where: { clientId: { eq: 1 } }) { id } }',
];

/** `departments → children → employees → orders → details`: five to-many levels of 1000 each. */
const FIVE_LEVELS =
  '{ departments(limit: 1000) { children(limit: 1000) { employees(limit: 1000) { orders(limit: 1000) { details(limit: 1000) { id } } } } } }';

/** Documents whose worst case is far beyond the bound, each through another construct, with their figure. */
const HOSTILE: [string, string, Record<string, unknown> | undefined, number][] = [
  ['five nested lists of 1000', FIVE_LEVELS, undefined, 1_001_001_001_001_000],
  [
    'the issue’s two lists of 1000',
    '{ customers(limit: 1000) { orders(limit: 1000) { id } } }',
    undefined,
    1_001_000,
  ],
  [
    'three nested lists at their default limit',
    '{ customers { orders { details { id } } } }',
    undefined,
    1_010_100,
  ],
  [
    'aliases of big lists, each counted',
    `{ ${Array.from({ length: 10 }, (_, i) => `c${i}: customers(limit: 1000) { orders(limit: 10) { id } }`).join(' ')} }`,
    undefined,
    110_000,
  ],
  [
    'load.ts’s aliases through a fragment',
    `{ ${Array.from({ length: 10 }, (_, i) => `c${i}: customers(limit: 1000) { ...F }`).join(' ')} }
     fragment F on Customer { orders(limit: 100) { id } }`,
    undefined,
    1_010_000,
  ],
  [
    'a list inside a fragment inside a fragment',
    `{ customers(limit: 1000) { ...A } }
     fragment A on Customer { orders(limit: 100) { ...B } }
     fragment B on Order { details(limit: 100) { id } }`,
    undefined,
    10_101_000,
  ],
  [
    'an inline fragment',
    '{ customers(limit: 1000) { ... on Customer { orders(limit: 1000) { id } } } }',
    undefined,
    1_001_000,
  ],
  [
    'limits from variables',
    'query Big($n: Int, $m: Int) { customers(limit: $n) { orders(limit: $m) { id } } }',
    { n: 1000, m: 1000 },
    1_001_000,
  ],
  [
    'a to-one hop between lists',
    '{ orders(limit: 1000) { customer { orders(limit: 1000) { id } } } }',
    undefined,
    1_002_000,
  ],
  [
    'a mutation that returns lists',
    'mutation { updateCustomer(id: "ALFKI", input: { city: "Elsewhere" }) { orders(limit: 1000) { details(limit: 1000) { id } } } }',
    undefined,
    1_001_001,
  ],
];

/** A value of `type` that coercion accepts, for the typed operations' required variables. */
function sample(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sample(type.ofType);
  if (isListType(type)) return [];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    const required = Object.values(type.getFields()).filter((field) => isNonNullType(field.type));
    return Object.fromEntries(required.map((field) => [field.name, sample(field.type)]));
  }
  return { Int: 1, Float: 1, Boolean: true, DateTimeISO: '2024-01-01T00:00:00.000Z' }[type.name] ?? '1';
}

/** The worst case of each typed operation with its limits omitted (their defaults) and required variables filled. */
function typedOperationFigures(): Map<string, number> {
  const figures = new Map<string, number>();
  for (const [name, document] of Object.entries(typed)) {
    if (!name.endsWith('Document')) continue;
    const operation = (document as DocumentNode).definitions.find(
      (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
    )!;
    const variables = Object.fromEntries(
      (operation.variableDefinitions ?? [])
        .filter((definition) => definition.type.kind === Kind.NON_NULL_TYPE)
        .map((definition) => [
          definition.variable.name.value,
          sample(typeFromAST(schema, definition.type) as GraphQLInputType),
        ]),
    );
    figures.set(
      operation.name!.value,
      worstCaseObjects(schema, document as DocumentNode, operation, variables),
    );
  }
  return figures;
}

describe(`the result bound (MAX_RESULT_OBJECTS, default ${thousands(DEFAULT_MAX_RESULT_OBJECTS)})`, () => {
  let t: TestGateway;
  let s1: Caller;
  beforeAll(async () => {
    t = await startTestGateway();
    s1 = await t.callerFor('s1');
  });
  afterAll(() => t?.close());

  it.each(HOSTILE)(
    '%s is refused before any SQL, naming its figure and the bound',
    async (_name, query, variables, figure) => {
      const started = performance.now();
      const result = await t.executeCountingSql(gql(query), variables, s1);
      const took = performance.now() - started;
      expect(result.data).toBeUndefined();
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]).toMatchObject({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
      expect(result.errors![0]!.message).toContain(`up to ${thousands(figure)} objects`);
      expect(result.errors![0]!.message).toContain(
        `at most ${thousands(DEFAULT_MAX_RESULT_OBJECTS)} are allowed`,
      );
      // Not a statement, not even the transaction's begin: no resolver ran.
      expect(result.statements).toEqual([]);
      expect(result.framing).toEqual([]);
      expect(took).toBeLessThan(1000);
    },
  );

  it('a refused mutation writes nothing', async () => {
    const before = await t.db.sql.query("select city from customer where id = 'ALFKI'");
    const result = await t.execute(gql(HOSTILE.at(-1)![1]), undefined, s1);
    expect(result.errors?.[0]?.message).toMatch(BOUND_MESSAGE);
    expect((await t.db.sql.query("select city from customer where id = 'ALFKI'")).rows).toEqual(before.rows);
  });

  it('answers HTTP 400 like the other document limits', async () => {
    const url = await t.gateway.listen(0, '127.0.0.1');
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: s1!.authorization! },
      body: JSON.stringify({ query: FIVE_LEVELS }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.message).toMatch(BOUND_MESSAGE);
    expect(body.errors[0]!.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('the same shapes with small limits run', async () => {
    const result = await t.execute(
      gql(
        'query Small($n: Int) { customers(limit: $n) { ...F ... on Customer { orders(limit: $n) { id } } } } fragment F on Customer { id }',
      ),
      { n: 3 },
      s1,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({ customers: expect.any(Array) });
  });

  it('every query of the README runs without meeting the bound', async () => {
    const queries = readmeQueries();
    expect(queries.length).toBeGreaterThanOrEqual(5);
    for (const query of queries) {
      const result = await t.execute(gql(query), undefined, s1);
      // Some answer errors of their own (a refresh token "…"); none may be the bound's refusal.
      for (const error of result.errors ?? []) expect(error.message, query).not.toMatch(BOUND_MESSAGE);
    }
    const [curlExample] = queries;
    expect((await t.execute(gql(curlExample!), undefined, s1)).errors).toBeUndefined();
  });

  it.each(BENCH_QUERIES)('the benchmark query %s runs', async (query) => {
    const result = await t.execute(gql(query), undefined, s1);
    expect(result.errors).toBeUndefined();
  });

  it('the typed operations fit, the relation trees through their explicit nested limits', () => {
    const figures = typedOperationFigures();
    expect(figures.size).toBeGreaterThan(50);
    const over = [...figures].filter(([, figure]) => figure > DEFAULT_MAX_RESULT_OBJECTS);
    expect(Object.fromEntries(over)).toEqual({});
    // Three default pages nested (customers → orders → details) would be about three million
    // objects, as much as the million-object attack; the trees name smaller nested limits instead.
    // CustomerOrderTree: 25 customers + 25 × 40 orders + 25 × 40 × 30 lines, each with its product
    // and category.
    expect(figures.get('CustomerOrderTree')).toBe(25 + 25 * 40 + 25 * 40 * 30 * 3);
    // DepartmentTree: 10 roots, 10 × 20 children, each with its parent, 20 children and 50 employees
    // with their managers.
    expect(figures.get('DepartmentTree')).toBe(10 + 10 * 20 * (1 + 1 + 20 + 50 * 2));
  });

  it('a limit above the maximum counts as nothing: its own BAD_USER_INPUT answers it', async () => {
    const result = await t.execute(
      gql('{ customers(limit: 5000) { orders(limit: 1000) { id } } }'),
      undefined,
      s1,
    );
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toMatch(/limit must be between 0 and 1000/);
  });
});

describe('the boundary', () => {
  const BOUND = 111;
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ settings: { ...DEFAULT_GATEWAY_SETTINGS, maxResultObjects: BOUND } });
  });
  afterAll(() => t?.close());

  // 10 customers + 10 × 10 orders + 1 shipper = 111 objects; one more order per customer is 121.
  const atBound = '{ customers(limit: 10) { id orders(limit: 10) { id } } shippers(limit: 1) { id } }';

  it('a document of exactly MAX_RESULT_OBJECTS runs', async () => {
    expect(worstCaseObjects(schema, parse(atBound), parse(atBound).definitions[0] as never, {})).toBe(BOUND);
    const result = await t.execute(gql(atBound));
    expect(result.errors).toBeUndefined();
  });

  it('one object more is refused, before any SQL', async () => {
    const result = await t.executeCountingSql(
      gql('{ customers(limit: 10) { id orders(limit: 10) { id } } shippers(limit: 2) { id } }'),
    );
    expect(result.errors?.[0]?.message).toContain(`up to 112 objects; at most ${BOUND} are allowed`);
    expect([...result.statements, ...result.framing]).toEqual([]);
  });

  it('a variable tips it the same way', async () => {
    const query = gql(
      'query($n: Int) { customers(limit: 10) { id orders(limit: $n) { id } } shippers(limit: 1) { id } }',
    );
    expect((await t.execute(query, { n: 10 })).errors).toBeUndefined();
    expect((await t.execute(query, { n: 11 })).errors?.[0]?.message).toContain('up to 121 objects');
  });

  it('a document counted once is counted again for other variables, in any order', async () => {
    // The count is remembered per document and variables: a remembered answer for one set of
    // variables must never decide another.
    const query = gql(
      'query($n: Int, $m: Int) { customers(limit: 10) { id orders(limit: $n) { id } } shippers(limit: $m) { id } }',
    );
    for (const round of [1, 2]) {
      expect((await t.execute(query, { n: 10, m: 1 })).errors, `round ${round}`).toBeUndefined();
      expect((await t.execute(query, { n: 11, m: 1 })).errors?.[0]?.message).toContain('up to 121 objects');
      expect((await t.execute(query, { n: 10, m: 2 })).errors?.[0]?.message).toContain('up to 112 objects');
      expect((await t.execute(query, { n: 0, m: 101 })).errors, `round ${round}`).toBeUndefined();
      expect((await t.execute(query, { n: 10, m: 'x' as never })).errors?.[0]?.extensions?.code).toBe(
        'BAD_USER_INPUT',
      );
    }
  });

  it('counts stay free, and skipped selections are not counted', async () => {
    const result = await t.execute(
      gql(
        'query($big: Boolean!) { customersCount ordersCount customers(limit: 10) { id orders(limit: 10) { id } } shippers(limit: 1) { id } more: orders(limit: 1000) @include(if: $big) { id } }',
      ),
      { big: false },
    );
    expect(result.errors).toBeUndefined();
  });
});
