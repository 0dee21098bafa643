import { ApolloServer } from '@apollo/server';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BIND_PARAMETERS, selectBound } from '../../src/db/bound-query.js';
import { errorFormatter } from '../../src/errors.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { MAX_VARIABLE_DEPTH, MAX_VARIABLE_VALUES } from '../../src/http/variable-bounds.js';
import { MAX_RELATION_FILTERS } from '../../src/api/query-arguments.js';
import { capturedLog } from '../helpers/captured-log.js';
import { type Caller, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * What a stranger or a signed-in user can send that is large or deep rather than wrong: each is
 * refused with status 400, a code and the name of the bound, before any SQL, and logged below error
 * level (it is the client's doing, not the gateway's fault). Reproduces the red team's findings of
 * issue 26: deeply nested variables (a stack overflow), an OR of 100 × 1000 values (a bind message
 * PostgreSQL refused), 60,000 selections or 3,000 operations (the parser's token limit, answered 500).
 */
interface Answer {
  status: number;
  body: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
  text: string;
}

const { log, lines } = capturedLog('info');
let t: TestGateway;
let url: string;
let token: string;
let u1: Caller;

/** Posts `payload`, whose `variables` may be given as JSON text. */
async function post(
  payload: { query: string; variables?: string | Record<string, unknown>; operationName?: string },
  authorization?: string,
): Promise<Answer> {
  const { variables, ...rest } = payload;
  const body =
    typeof variables === 'string'
      ? `${JSON.stringify(rest).slice(0, -1)},"variables":${variables}}`
      : JSON.stringify(payload);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Answer['body'], text };
}

/**
 * `{ AND: [{ AND: [ … { companyName: { eq: "x" } } … ] }] }`, `levels` deep, as JSON text (deeper
 * than JSON.stringify itself can go).
 */
const nestedWhere = (levels: number) =>
  `${'{"AND":['.repeat(levels)}{"companyName":{"eq":"x"}}${']}'.repeat(levels)}`;

const WHERE_QUERY = 'query($w: CustomerWhere) { customers(where: $w, limit: 1) { id } }';

/** Every error of the answer: the given code, no JavaScript or SQL text, no stack. */
function expectRefused(answer: Answer, code: string, message: RegExp) {
  expect(answer.status).toBe(400);
  expect(answer.body.data ?? null).toBeNull();
  expect(answer.body.errors).toEqual([
    expect.objectContaining({ message: expect.stringMatching(message), extensions: { code } }),
  ]);
  expect(answer.text).not.toMatch(/RangeError|call stack|bind message|\bat \w+ \(|node_modules|select /i);
}

/** No line at error level since `from`: a refused request is the client's doing. */
const errorsLoggedSince = (from: number) => lines.slice(from).filter((line) => (line.level as number) >= 50);

beforeAll(async () => {
  t = await startTestGateway({ log, settings: { ...DEFAULT_GATEWAY_SETTINGS, production: true } });
  url = await t.gateway.listen(0, '127.0.0.1');
  const login = await post({ query: 'mutation { login(username: "u1", password: "p") { accessToken } }' });
  token = `Bearer ${(login.body.data as { login: { accessToken: string } }).login.accessToken}`;
  u1 = { authorization: token };
});
afterAll(() => t?.close());

describe('variables', () => {
  it.each([1_500, 4_000, 50_000])(
    'nested %i levels deep are refused unauthenticated, before they are coerced',
    async (levels) => {
      const from = lines.length;
      const answer = await post({ query: WHERE_QUERY, variables: `{"w":${nestedWhere(levels)}}` });
      expectRefused(
        answer,
        'BAD_USER_INPUT',
        new RegExp(`${MAX_VARIABLE_DEPTH} levels deep \\(MAX_VARIABLE_DEPTH\\)`),
      );
      expect(errorsLoggedSince(from)).toEqual([]);
    },
  );

  it('an OR of 100 × 1000 values is refused by its total, before any SQL', async () => {
    const where = {
      OR: Array.from({ length: 100 }, (_, i) => ({ companyName: { in: Array(1000).fill(`c${i}`) } })),
    };
    const from = lines.length;
    const answer = await post({ query: WHERE_QUERY, variables: { w: where } }, token);
    expectRefused(
      answer,
      'BAD_USER_INPUT',
      new RegExp(`${MAX_VARIABLE_VALUES} values \\(MAX_VARIABLE_VALUES\\)`),
    );
    expect(errorsLoggedSince(from)).toEqual([]);
    // As a signed-in caller through the test's own executor: no statement ran.
    const direct = await t.executeCountingSql(parse(WHERE_QUERY), { w: where }, u1);
    expect(direct.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(direct.statements).toEqual([]);
  });

  it('the largest where the bounds admit runs, in far fewer bind parameters than PostgreSQL takes', async () => {
    // MAX_VARIABLE_VALUES values in lists of at most 1000 (MAX_LIST_VALUES), and the keys they sit under.
    const lists = Math.floor((MAX_VARIABLE_VALUES - 10) / 1002);
    const where = {
      OR: Array.from({ length: lists }, (_, i) => ({ companyName: { in: Array(1000).fill(`c${i}`) } })),
    };
    const answer = await t.executeCountingSql(parse(WHERE_QUERY), { w: where }, u1);
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toEqual({ customers: [] });
    expect(answer.statements).toHaveLength(1);
  });

  it('a where within the bounds but nested deeper than MAX_WHERE_DEPTH is refused by its field', async () => {
    const answer = await post({ query: WHERE_QUERY, variables: `{"w":${nestedWhere(9)}}` }, token);
    expect(answer.body).toEqual({
      data: null,
      errors: [
        expect.objectContaining({
          message: 'where may nest AND/OR/NOT and relation filters at most 8 levels deep',
        }),
      ],
    });
    expect(answer.body.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it('a where of more than MAX_RELATION_FILTERS relation filters is refused by its field, before any SQL', async () => {
    // 300 of these, a few kilobytes of variables, kept PostgreSQL busy past the request's deadline.
    const filters = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        orders: { some: { details: { every: { quantity: { gt: i } } } } },
      }));
    const within = await t.executeCountingSql(
      parse(WHERE_QUERY) as never,
      { w: { AND: filters(MAX_RELATION_FILTERS / 2) } },
      u1,
    );
    expect(within.errors).toBeUndefined();
    const beyond = await t.executeCountingSql(
      parse(WHERE_QUERY) as never,
      { w: { AND: filters(MAX_RELATION_FILTERS + 1) } },
      u1,
    );
    expect(beyond.errors?.map((error) => [error.extensions?.code, error.message])).toEqual([
      ['BAD_USER_INPUT', `where may hold at most ${MAX_RELATION_FILTERS} relation filters`],
    ]);
    expect(beyond.statements.filter((statement) => statement.startsWith('select to_json'))).toEqual([]);
  });
});

describe('values PostgreSQL refuses only when a row is met', () => {
  const ORDERS = 'query($p: String!) { orders(where: { shipName: { like: $p } }) { id } }';

  it('a LIKE pattern ending in its escape character is refused alike whatever the rows (no oracle)', async () => {
    // "Ana \\" starts another tenant's ship name: PostgreSQL's error would come only if such a row
    // were compared, and the gateway's own filter does not fix PostgreSQL's order of evaluation.
    for (const pattern of ['Ana \\', 'zzzz\\', '\\', 'a\\\\\\']) {
      const result = await t.execute(parse(ORDERS) as never, { p: pattern }, u1);
      expect(
        result.errors?.map((error) => error.extensions?.code),
        pattern,
      ).toEqual(['BAD_USER_INPUT']);
    }
    // An escaped backslash is a backslash: allowed.
    const escaped = await t.execute(parse(ORDERS) as never, { p: 'a\\\\' }, u1);
    expect(escaped.errors).toBeUndefined();
  });

  it('a NUL character in a condition is bad input, not a server error', async () => {
    const result = await t.execute(parse(ORDERS) as never, { p: 'a\u0000b' }, u1);
    expect(result.errors?.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('a statement', () => {
  it('carries at most the 65,535 parameters PostgreSQL counts, and is refused before it is sent past them', async () => {
    await t.orm.em.fork().transactional(async (em) => {
      const statement = (n: number) =>
        selectBound<{ n: number }>(em, {
          sql: `select cardinality(array[${Array.from({ length: n }, (_, i) => `$${i + 1}::int`).join(',')}]) as n`,
          params: Array(n).fill(1),
        });
      expect(await statement(MAX_BIND_PARAMETERS)).toEqual([{ n: MAX_BIND_PARAMETERS }]);
      await expect(statement(MAX_BIND_PARAMETERS + 1)).rejects.toMatchObject({
        message: expect.stringMatching(/MAX_BIND_PARAMETERS/),
        extensions: { code: 'BAD_USER_INPUT' },
      });
    });
  });
});

describe('documents', () => {
  it('60,000 selections are refused by the token limit with status 400, not 500', async () => {
    const from = lines.length;
    const answer = await post({ query: `{ ${'me { id } '.repeat(60_000)}}` }, token);
    expectRefused(answer, 'GRAPHQL_PARSE_FAILED', /Document contains more that 2000 tokens/);
    expect(errorsLoggedSince(from)).toEqual([]);
  });

  it('3,000 operations in one document are refused by the token limit with status 400', async () => {
    const query = Array.from({ length: 3_000 }, (_, i) => `query q${i} { me { id } }`).join('\n');
    const answer = await post({ query, operationName: 'q1' }, token);
    expectRefused(answer, 'GRAPHQL_PARSE_FAILED', /Document contains more that 2000 tokens/);
  });
});

describe('an error thrown in a plugin hook', () => {
  it('is masked like any other failure, in production and in development', async () => {
    for (const production of [true, false]) {
      const server = new ApolloServer({
        typeDefs: 'type Query { a: Int }',
        formatError: errorFormatter({ production }),
        plugins: [
          {
            requestDidStart: async () => ({
              didResolveOperation: () => {
                throw new RangeError('Maximum call stack size exceeded');
              },
            }),
          },
        ],
      });
      await server.start();
      try {
        const response = await server.executeOperation({ query: '{ a }' });
        const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
        expect(result?.errors).toEqual([
          expect.objectContaining({
            message: 'Internal server error',
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          }),
        ]);
      } finally {
        await server.stop();
      }
    }
  });
});
