import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENT_LIMITS } from '../../src/http/document-limits.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { capturedLog } from '../helpers/captured-log.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** `departments { children { children { … { id } } } }`, `levels` deep. */
const nested = (levels: number) => `${'children { '.repeat(levels - 1)}id${' }'.repeat(levels - 1)}`;

/**
 * Hostile documents are refused while parsing and validating: nothing resolves and no SQL runs.
 * Sent over HTTP with a valid token, as an attacker with an account would.
 */
describe('hostile documents', () => {
  let t: TestGateway;
  let url: string;
  let authorization: string;
  beforeAll(async () => {
    t = await startTestGateway();
    url = await t.gateway.listen(0, '127.0.0.1');
    const login = await fetch(url.replace('/graphql', '/api/auth/login'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'u2', password: 'p' }),
    });
    authorization = `Bearer ${((await login.json()) as { access_token: string }).access_token}`;
  });
  afterAll(() => t?.close());

  async function send(query: string) {
    const statements: string[] = [];
    const stop = t.queryLog.listen((sql) => statements.push(sql));
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query }),
      });
      const body = (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      return { status: response.status, body, statements };
    } finally {
      stop();
    }
  }

  it('a legitimate nested query passes', async () => {
    // With explicit page sizes: default pages of 100 on four levels would ask for 10^8 objects.
    const result = await send(
      '{ departments(limit: 10) { children(limit: 10) { children(limit: 10) { children(limit: 10) { id } } } } }',
    );
    expect(result.body.errors).toBeUndefined();
  });

  it.each([
    ['too deep', `{ departments { ${nested(DOCUMENT_LIMITS.depth + 2)} } }`, /depth limit/],
    [
      'too deep through fragments and inline fragments',
      `{ departments { ...A } }
       fragment A on Department { children { ... on Department { children { ...B } } } }
       fragment B on Department { ${nested(DOCUMENT_LIMITS.depth)} }`,
      /depth limit/,
    ],
    [
      'too deep behind a fragment named __schema',
      `{ departments { ...__schema } } fragment __schema on Department { ${nested(DOCUMENT_LIMITS.depth + 2)} }`,
      /depth limit/,
    ],
    [
      'too many aliases',
      `{ ${Array.from({ length: DOCUMENT_LIMITS.aliases + 1 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
      /Aliases limit/,
    ],
    [
      'too many aliases hidden in a fragment',
      `{ customers(limit: 1) { ...F } } fragment F on Customer { ${Array.from({ length: DOCUMENT_LIMITS.aliases + 1 }, (_, i) => `c${i}: id`).join(' ')} }`,
      /Aliases limit/,
    ],
    [
      'too many directives',
      `{ customersCount ${'@include(if: true) '.repeat(DOCUMENT_LIMITS.directives + 1)} }`,
      /Directives limit/,
    ],
    [
      'too many tokens',
      `{ customers(limit: 1) { ${'id '.repeat(DOCUMENT_LIMITS.tokens)} } }`,
      /more that 2000 tokens/,
    ],
    [
      // Within the depth, alias and token limits, but wide at depth: each field there weighs more.
      'too costly',
      `{ departments { ${'children { '.repeat(10)}${'id departmentName securityLevel '.repeat(30)}${' }'.repeat(10)} } }`,
      /Cost limit/,
    ],
  ] as [string, string, RegExp][])(
    '%s: refused before any resolver or SQL',
    async (_attack, query, reason) => {
      const result = await send(query);
      expect(result.body.errors?.[0]?.message).toMatch(reason);
      expect(result.body.data).toBeUndefined();
      expect(['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'BAD_USER_INPUT']).toContain(
        result.body.errors?.[0]?.extensions?.code,
      );
      expect(result.statements).toEqual([]);
    },
  );

  it('a request body over 1 MB is refused with 413', async () => {
    const result = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: `{ customersCount } #${'x'.repeat(1_100_000)}` }),
    });
    expect(result.status).toBe(413);
  });

  it('batched HTTP requests are refused', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify([{ query: '{ customersCount }' }, { query: '{ ordersCount }' }]),
    });
    expect(response.status).toBe(400);
  });

  it('a mutation over GET is refused, and so is a GET without a CSRF-safe header', async () => {
    const mutation = encodeURIComponent('mutation { deleteShipper(id: 1) }');
    const viaGet = await fetch(`${url}?query=${mutation}`, {
      headers: { authorization, 'apollo-require-preflight': 'true' },
    });
    expect(viaGet.status).toBe(405);
    const simple = await fetch(`${url}?query=${encodeURIComponent('{ customersCount }')}`, {
      headers: { authorization },
    });
    expect(simple.status).toBe(400);
    expect(Number((await t.db.sql.query('select count(*) from shipper where id = 1')).rows[0].count)).toBe(1);
  });
});

describe('production mode', () => {
  let t: TestGateway;
  let url: string;
  const { log, lines: logLines } = capturedLog('info');
  beforeAll(async () => {
    t = await startTestGateway({
      settings: { ...DEFAULT_GATEWAY_SETTINGS, production: true, introspection: false },
      log,
    });
    url = await t.gateway.listen(0, '127.0.0.1');
  });
  afterAll(() => t?.close());

  const post = async (query: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return {
      response,
      body: (await response.json()) as {
        data?: unknown;
        errors?: { message: string; extensions?: Record<string, unknown> }[];
      },
    };
  };

  it('refuses introspection', async () => {
    const { body } = await post('{ __schema { types { name } } }');
    expect(body.errors?.[0]?.message).toMatch(/introspection/i);
    expect(JSON.stringify(body)).not.toMatch(/CustomerWhere/);
  });

  it('gives no "Did you mean" hints about the schema', async () => {
    const { body } = await post('{ customer { idd } customrs { id } }');
    expect(body.errors?.length).toBeGreaterThan(0);
    expect(JSON.stringify(body)).not.toMatch(/Did you mean/);
  });

  it('serves no landing page', async () => {
    const response = await fetch(url, { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toMatch(/sandbox/i);
  });

  it('masks an unexpected error and carries the request id that finds it in the log', async () => {
    const login = await post('mutation { login(username: "u2", password: "p") { accessToken } }');
    const token = (login.body.data as { login: { accessToken: string } }).login.accessToken;
    // A column the gateway knows and the database no longer has: an error no input causes.
    await t.db.sql.query('alter table customer rename column company_name to company_name_gone');
    const { response, body } = await post('{ customers(where: { companyName: { eq: "x" } }) { id } }', {
      authorization: `Bearer ${token}`,
    }).finally(() => t.db.sql.query('alter table customer rename column company_name_gone to company_name'));
    const error = body.errors![0]!;
    expect(error).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(JSON.stringify(body)).not.toMatch(/select|customer"|company_name|does not exist|stack/i);
    const requestId = error.extensions!.requestId as string;
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const logged = logLines.find(
      (line) => line.msg === 'unexpected error while resolving' && line.requestId === requestId,
    );
    expect(logged).toBeDefined();
  });
});
