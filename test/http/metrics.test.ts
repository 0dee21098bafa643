import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { LOGIN } from '../helpers/gateway-process.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * `GET /metrics` (SPEC §12) over HTTP, in production: the superuser's token only on the main port,
 * and every figure the spec lists counted from real requests.
 */
let t: TestGateway;
let origin: string;
beforeAll(async () => {
  t = await startTestGateway({
    settings: { ...DEFAULT_GATEWAY_SETTINGS, production: true, introspection: false, maxResultObjects: 1000 },
  });
  origin = new URL(await t.gateway.listen(0, '127.0.0.1')).origin;
});
afterAll(() => t?.close());

async function post(query: string, options: { token?: string; variables?: object } = {}) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return (await response.json()) as { data?: Record<string, { accessToken: string }>; errors?: unknown[] };
}
const login = async (username: string, password = 'p') => post(LOGIN, { variables: { username, password } });
const metrics = (token?: string) =>
  fetch(`${origin}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** The value of the sample `name{labels}` in a Prometheus text exposition, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

describe('/metrics in production', () => {
  it('is refused without the superuser’s token, and served with it', async () => {
    const u1 = (await login('u1')).data!.login!.accessToken;
    const sa = (await login('sa')).data!.login!.accessToken;
    expect((await metrics()).status).toBe(401);
    expect((await metrics('not-a-token')).status).toBe(401);
    const other = await metrics(u1);
    expect(other.status).toBe(403);
    expect(await other.text()).not.toMatch(/grantgate_/);
    const served = await metrics(sa);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('counts requests, durations, denials, logins, result-bound refusals, the pool and the statement cache', async () => {
    const sa = (await login('sa')).data!.login!.accessToken;
    const u1 = (await login('u1')).data!.login!.accessToken;
    const before = await (await metrics(sa)).text();
    await login('u1', 'wrong');
    await post('{ customers(limit: 2) { id } }', { token: u1 });
    await post('{ customers(limit: 2) { id } }', { token: u1 });
    await post('mutation { createShipper(input: { companyName: "Refused" }) { id } }', { token: u1 });
    await post('{ customers(limit: 1000) { orders(limit: 1000) { id } } }', { token: u1 });
    const after = await (await metrics(sa)).text();
    const grew = (name: string, labels: Record<string, string> = {}) =>
      (sample(after, name, labels) ?? 0) - (sample(before, name, labels) ?? 0);

    expect(grew('grantgate_graphql_requests_total', { operation: 'query', outcome: 'ok' })).toBe(2);
    expect(grew('grantgate_graphql_requests_total', { operation: 'mutation', outcome: 'error' })).toBe(2);
    expect(grew('grantgate_graphql_requests_total', { operation: 'query', outcome: 'error' })).toBe(1);
    expect(grew('grantgate_graphql_request_duration_seconds_count', { operation: 'query' })).toBe(3);
    expect(grew('grantgate_logins_total', { outcome: 'refused' })).toBe(1);
    expect(grew('grantgate_logins_total', { outcome: 'ok' })).toBe(0);
    expect(grew('grantgate_result_bound_refusals_total')).toBe(1);
    const denials = after.split('\n').filter((line) => line.startsWith('grantgate_denials_total{'));
    expect(denials.some((line) => /code="FORBIDDEN",rule="Shipper is shared by all tenants/.test(line))).toBe(
      true,
    );
    expect(grew('grantgate_statement_cache_lookups_total', { result: 'hit' })).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'grantgate_db_pool_connections', { state: 'waiting' })).toBe(0);
    expect(sample(after, 'grantgate_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
    // Nothing a user sent is a label: no user name, no value of a row.
    expect(after).not.toMatch(/u1|ALFKI|Refused/);
  });
});
