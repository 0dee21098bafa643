import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListOrdersDocument } from '../../demo/northwind/__generated__/graphql.js';
import { capturedLog } from '../helpers/captured-log.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const { log, lines: logLines } = capturedLog('info');

let t: TestGateway;
let url: string;
let authorization: string;
beforeAll(async () => {
  t = await startTestGateway({ log });
  url = await t.gateway.listen(0, '127.0.0.1');
  const login = await fetch(`${base()}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'sa', password: 'p' }),
  });
  authorization = `Bearer ${((await login.json()) as { access_token: string }).access_token}`;
});
afterAll(() => t?.close());

const base = () => url.replace(/\/graphql$/, '');
const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('GraphQL over HTTP', () => {
  it('answers a query', async () => {
    const response = await post({ query: '{ customersCount }' });
    expect(response.status).toBe(200);
    const { rows } = await t.db.sql.query('select count(*)::int as n from customer');
    expect(await response.json()).toEqual({ data: { customersCount: rows[0].n } });
  });

  it('answers a query sent by GET, its variables read from the query string; a mutation only by POST', async () => {
    const search = new URLSearchParams({
      query: 'query($n: Int) { shippers(limit: $n) { id } }',
      variables: JSON.stringify({ n: 1 }),
    });
    const headers = { authorization, 'apollo-require-preflight': 'true' };
    const response = await fetch(`${url}?${search}`, { headers });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await response.json()) as { data: { shippers: unknown[] } }).data.shippers).toHaveLength(1);
    const mutation = new URLSearchParams({ query: 'mutation { deleteShipper(id: "1") }' });
    const refused = await fetch(`${url}?${mutation}`, { headers });
    expect(refused.status).toBe(405);
    expect((await t.db.sql.query('select id from shipper where id = 1')).rows).toHaveLength(1);
  });

  it('serves Apollo Sandbox to a browser', async () => {
    const response = await fetch(url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/sandbox/i);
  });

  it('refuses a body over 1 MB with 413 before parsing it', async () => {
    const response = await post({ query: `{ customersCount } # ${'x'.repeat(1_100_000)}` });
    expect(response.status).toBe(413);
  });

  it('refuses malformed JSON with 400', async () => {
    const response = await post('{"query": ');
    expect(response.status).toBe(400);
  });

  it('logs one line per request with operation, duration and outcome', async () => {
    logLines.length = 0;
    await post({ query: 'query CountThem { customersCount }', operationName: 'CountThem' });
    await post({ query: 'query TooMany { orders(limit: 5000) { id } }' });
    const requests = logLines.filter((line) => line.msg === 'graphql request');
    expect(requests).toEqual([
      expect.objectContaining({
        operationName: 'CountThem',
        outcome: 'ok',
        durationMs: expect.any(Number),
        requestId: expect.any(String),
      }),
      expect.objectContaining({ operationName: 'TooMany', outcome: 'error', errorCodes: ['BAD_USER_INPUT'] }),
    ]);
  });

  it('answers only after every resolver of the request has finished, even when one failed early', async () => {
    // `orders` fails at once (limit too high); its sibling `ordersCount` is still querying then.
    const result = await t.executeCountingSql(ListOrdersDocument, { limit: 5000 }, { authorization });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.statements).toEqual([
      expect.stringMatching(/^select count\(\*\)::int as "value" from "order"/),
    ]);
  });
});

describe('health endpoints', () => {
  it('/healthz says the process is up', async () => {
    const response = await fetch(`${base()}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz follows the database: ready while reachable, 503 once it is gone', async () => {
    expect((await fetch(`${base()}/readyz`)).status).toBe(200);
    await t.db.drop();
    const response = await fetch(`${base()}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', reason: 'database unreachable' });
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
  });
});
