import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { RequestTransaction } from '../../src/db/request-transaction.js';
import { DEFAULT_GATEWAY_SETTINGS, type GatewaySettings } from '../../src/gateway.js';
import { MAX_VARIABLE_VALUES } from '../../src/http/variable-bounds.js';
import { SHAPES } from '../api/read-shapes.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * Queries Apollo has validated before are answered past its request pipeline
 * (src/http/query-fast-path.ts). The differential: each request's status, headers and body, byte for
 * byte, answered past Apollo and by Apollo (`queriesPastApollo: false`), the same gateway, data and
 * caller — for every read shape, with variables, operation names, every class of error, and the
 * requests the path must leave to Apollo (which answers them as before, and is seen to).
 */
/** A gateway listening, its users signed in, and a spy that sees each request Apollo answers. */
interface Subject {
  t: TestGateway;
  url: string;
  callerOf: (user: string) => Caller;
  apollo: MockInstance;
}

async function subject(settings?: GatewaySettings): Promise<Subject> {
  const t = await startTestGateway({ settings });
  const url = await t.gateway.listen(0, '127.0.0.1');
  const callerOf = await signIn(t, [...new Set(['u1', 'u2', ...SHAPES.map((shape) => shape.user)])]);
  return { t, url, callerOf, apollo: vi.spyOn(t.gateway.apollo, 'executeHTTPGraphQLRequest') };
}

let demo: Subject;
beforeAll(async () => {
  demo = await subject();
});
afterAll(() => demo?.t.close());

interface Sent {
  /** The request body: JSON of this value, or this text as it is. */
  body: unknown;
  user?: string;
  authorization?: string;
  accept?: string;
  contentType?: string;
}

/** One request, with the fast path on or off: what came back, and whether Apollo answered it. */
async function send(request: Sent, pastApollo: boolean, on: Subject = demo) {
  const { t, url, callerOf, apollo } = on;
  t.requestContext.queriesPastApollo = pastApollo;
  const callsBefore = apollo.mock.calls.length;
  try {
    const authorization = request.user ? callerOf(request.user)!.authorization! : request.authorization;
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': request.contentType ?? 'application/json',
        ...(request.accept ? { accept: request.accept } : {}),
        ...(authorization ? { authorization } : {}),
      },
      body: typeof request.body === 'string' ? request.body : JSON.stringify(request.body),
    });
    const text = await response.text();
    const requestId = response.headers.get('x-request-id');
    return {
      status: response.status,
      // Every header in order, the date left out and the request id masked.
      headers: [...response.headers]
        .filter(([name]) => name !== 'date')
        .map(([name, value]) => [name, name === 'x-request-id' ? '<request id>' : value]),
      // Each request has its own id: in the body (an internal error's requestId) it is masked.
      body: requestId ? text.replaceAll(requestId, '<request id>') : text,
      requestId,
      byApollo: apollo.mock.calls.length > callsBefore,
    };
  } finally {
    t.requestContext.queriesPastApollo = undefined;
  }
}

/**
 * The request answered by Apollo, then past it once Apollo has seen its text (`past`: whether that
 * second answer skipped Apollo); the two answers are expected equal, and returned.
 */
async function differential(request: Sent, past: boolean, on: Subject = demo) {
  const byApollo = await send(request, false, on);
  await send(request, true, on);
  const answered = await send(request, true, on);
  expect(byApollo.byApollo).toBe(true);
  expect(answered.byApollo).toBe(!past);
  const { byApollo: _a, requestId: firstId, ...expected } = byApollo;
  const { byApollo: _b, requestId: secondId, ...actual } = answered;
  expect(actual).toEqual(expected);
  // Each carries its own id, where Apollo gives one (not to a request refused before its context).
  if (firstId === null) expect(secondId).toBeNull();
  else expect([firstId, secondId]).toEqual([expect.stringMatching(UUID), expect.stringMatching(UUID)]);
  return answered;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const query = (document: string, rest: Record<string, unknown> = {}) => ({ query: document, ...rest });
const CUSTOMERS = 'query Page($n: Int) { customers(limit: $n, orderBy: [{ id: ASC }]) { id companyName } }';

describe('queries past Apollo answer as Apollo does', () => {
  it.each(SHAPES.map((shape) => [shape.name, shape] as const))(
    'read shape %s: the same status, headers and bytes',
    async (_name, shape) => {
      await differential({ body: query(shape.document), user: shape.user }, true);
    },
  );

  it.each([
    ['variables', query(CUSTOMERS, { variables: { n: 3 } })],
    ['null variables and operation name', query(CUSTOMERS, { variables: null, operationName: null })],
    [
      'an operation chosen by name',
      query(`${CUSTOMERS} query Other { ordersCount }`, { operationName: 'Other' }),
    ],
    // A limit the resolver refuses (BAD_USER_INPUT) beside a field that reads.
    [
      'a field refused beside one answered',
      query(CUSTOMERS.replace('{ customers', '{ o: orders(limit: -1) { id } customers'), {
        variables: { n: 2 },
      }),
    ],
    ['a by-key read that finds nothing', query('{ customer(id: "NOPE") { id } }')],
  ])('%s', async (_name, body) => {
    await differential({ body, user: 'u1' }, true);
  });

  it.each([
    ['no Accept', undefined],
    ['Accept: application/graphql-response+json', 'application/graphql-response+json'],
    ['Accept: */*', '*/*'],
    ['Accept as axios sends it', 'application/json, text/plain, */*'],
  ])('%s: the media type Apollo chooses', async (_name, accept) => {
    const answered = await differential(
      { body: query(CUSTOMERS, { variables: { n: 1 } }), user: 'u2', accept },
      true,
    );
    expect(answered.status).toBe(200);
  });

  it('an anonymous caller: the same refusal', async () => {
    const answered = await differential({ body: query('{ customers(limit: 1) { id } }') }, true);
    expect(answered.body).toContain('UNAUTHENTICATED');
  });

  it('a token that does not verify: the same refusal', async () => {
    const body = query(CUSTOMERS, { variables: { n: 1 } });
    const answered = await differential({ body, authorization: 'Bearer not-a-token' }, true);
    expect(answered.body).toContain('UNAUTHENTICATED');
  });

  it('an internal error: masked the same way, with the request id', async () => {
    // A database drifted from its entity: a null in a non-null field.
    await demo.t.db.sql.query(`alter table customer alter column company_name drop not null;
      update customer set company_name = null where id = (select min(id) from customer where client_id = 1)`);
    try {
      const answered = await differential(
        { body: query(CUSTOMERS, { variables: { n: 2 } }), user: 'u1' },
        true,
      );
      expect(answered.body).toContain('"code":"INTERNAL_SERVER_ERROR","requestId":"<request id>"');
    } finally {
      await demo.t.db.sql.query(`update customer set company_name = 'Restored' where company_name is null;
        alter table customer alter column company_name set not null`);
    }
  });

  it('a transaction whose end fails: the same error in place of the data', async () => {
    const end = RequestTransaction.prototype.close;
    const failing = async function (this: RequestTransaction) {
      await end.call(this);
      throw new Error('lost');
    };
    const request = { body: query(CUSTOMERS, { variables: { n: 2 } }), user: 'u1' };
    await send(request, true);
    const close = vi.spyOn(RequestTransaction.prototype, 'close').mockImplementationOnce(failing);
    try {
      const byApollo = await send(request, false);
      close.mockImplementationOnce(failing);
      const past = await send(request, true);
      expect([byApollo.byApollo, past.byApollo]).toEqual([true, false]);
      expect(past.body).toBe(byApollo.body);
      expect(JSON.parse(past.body)).toMatchObject({
        data: null,
        errors: [{ message: 'The changes could not be saved. Try again.' }],
      });
    } finally {
      close.mockRestore();
    }
  });
});

describe('what the path leaves to Apollo, before anything of it runs', () => {
  it.each([
    ['variables that do not fit their types', query(CUSTOMERS, { variables: { n: 'many' } })],
    ['variables as a string', query(CUSTOMERS, { variables: '{"n":1}' })],
    [
      'variables over their bound',
      query(CUSTOMERS, { variables: { n: 1, extra: Array.from({ length: MAX_VARIABLE_VALUES }, () => 1) } }),
    ],
    [
      'a worst case over MAX_RESULT_OBJECTS',
      query(
        'query Big($n: Int) { customers(limit: $n) { orders(limit: 500) { details(limit: 500) { quantity } } } }',
        {
          variables: { n: 500 },
        },
      ),
    ],
    ['an operation name the document does not hold', query(CUSTOMERS, { operationName: 'Missing' })],
    ['two operations and no name', query(`${CUSTOMERS} query Other { ordersCount }`)],
    [
      'an extensions object (persisted queries)',
      query(CUSTOMERS, { extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } }),
    ],
    ['a text Apollo refused', query('{ customers(limit: 1) { nope } }')],
    ['an empty operation name', query(`${CUSTOMERS} query Other { ordersCount }`, { operationName: '' })],
    ['an empty extensions object', query('query Some { customers(limit: 1) { id } }', { extensions: {} })],
    ['a batch', [query(CUSTOMERS, { variables: { n: 1 } })]],
  ])('%s', async (_name, body) => {
    const answered = await differential({ body, user: 'u1' }, false);
    if (answered.status < 400) expect(answered.body).toContain('"data"');
    else expect(answered.body).toContain('"errors"');
  });

  it('an Accept no JSON type fits: Apollo refuses it (406)', async () => {
    const answered = await differential(
      { body: query(CUSTOMERS, { variables: { n: 1 } }), user: 'u1', accept: 'text/html' },
      false,
    );
    expect(answered.status).toBe(406);
  });

  it('a body that is not JSON: Apollo’s CSRF rule, not this path', async () => {
    const body = JSON.stringify(query(CUSTOMERS, { variables: { n: 1 } }));
    const answered = await differential({ body, user: 'u1', contentType: 'text/plain' }, false);
    expect(answered.status).toBe(400);
    expect(answered.body).toContain('Cross-Site Request Forgery');
  });

  it('a context that cannot be made: made once, and Apollo reports its failure', async () => {
    const request = { body: query(CUSTOMERS, { variables: { n: 1 } }), user: 'u1' };
    await send(request, true);
    const identify = vi.spyOn(demo.t.auth.service, 'identify');
    try {
      identify.mockRejectedValueOnce(new Error('the token store is away'));
      const byApollo = await send(request, false);
      identify.mockRejectedValueOnce(new Error('the token store is away'));
      const calls = identify.mock.calls.length;
      const past = await send(request, true);
      expect(identify.mock.calls.length).toBe(calls + 1);
      expect(past.byApollo).toBe(true);
      expect({ ...past, byApollo: true, requestId: null }).toEqual({ ...byApollo, requestId: null });
      expect(past.status).toBe(500);
      expect(past.body).not.toContain('token store');
    } finally {
      identify.mockRestore();
    }
  });

  it('a mutation: always Apollo, and the database as the refusal left it', async () => {
    const shippers = async () =>
      (await demo.t.db.sql.query('select count(*)::int as n from shipper')).rows[0].n as number;
    const before = await shippers();
    const answered = await differential(
      { body: query('mutation { createShipper(input: { companyName: "Refused" }) { id } }'), user: 'u1' },
      false,
    );
    expect(answered.body).toContain('"errors"');
    expect(await shippers()).toBe(before);
  });
});

describe('past Apollo, the request is still counted and bounded', () => {
  it('each query answered past Apollo is counted in the metrics', async () => {
    const requests = async () => {
      const text = await (await fetch(demo.url.replace('/graphql', '/metrics'))).text();
      const line = text
        .split('\n')
        .find((each) => each.startsWith('grantgate_graphql_requests_total{operation="query",outcome="ok"}'));
      return Number(line?.split(' ').at(-1) ?? 0);
    };
    const request = { body: query(CUSTOMERS, { variables: { n: 1 } }), user: 'u2' };
    await send(request, true);
    const before = await requests();
    for (let i = 0; i < 3; i++) expect((await send(request, true)).byApollo).toBe(false);
    expect(await requests()).toBe(before + 3);
  });
});

describe('in production', () => {
  let production: Subject;
  beforeAll(async () => {
    production = await subject({ ...DEFAULT_GATEWAY_SETTINGS, production: true, introspection: false });
  });
  afterAll(() => production?.t.close());

  it.each([
    ['refused-field', true],
    ['refused-field-nested', true],
    ['by-key', false],
  ] as const)('read shape %s: the same answer, a denial without its rule', async (name, denied) => {
    const shape = SHAPES.find((each) => each.name === name)!;
    const answered = await differential({ body: query(shape.document), user: shape.user }, true, production);
    expect(answered.body).not.toContain('"rule"');
    expect(answered.body.includes('"code":"FORBIDDEN"')).toBe(denied);
  });

  it('introspection, which validation refuses, never goes past Apollo', async () => {
    const answered = await differential(
      { body: query('{ __schema { queryType { name } } }'), user: 'u1' },
      false,
      production,
    );
    expect(answered.status).toBe(400);
    expect(answered.body).not.toContain('"queryType"');
  });
});
