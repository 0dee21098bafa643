import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';
import {
  type GatewayProcess,
  loginAs,
  postGraphQL,
  startGatewayProcess,
} from '../helpers/gateway-process.js';
import { promtoolCheckMetrics, startPrometheus } from '../helpers/prometheus.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * SPEC §12, metrics: Debian's Prometheus scrapes a gateway's METRICS_PORT (no authentication, on
 * loopback) and answers its request counter through its HTTP API; promtool accepts the exposition.
 */
let db: TestDatabase;
let gateway: GatewayProcess;
let metricsPort: number;
let prometheus: Awaited<ReturnType<typeof startPrometheus>>;

beforeAll(async () => {
  db = await createTestDatabase();
  metricsPort = await findFreePort();
  gateway = startGatewayProcess({ DATABASE_URL: db.url, METRICS_PORT: String(metricsPort) });
  await gateway.url;
  prometheus = await startPrometheus(`127.0.0.1:${metricsPort}`);
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await gateway?.stop();
  await db?.drop();
});

describe('Prometheus', () => {
  it('accepts the exposition (promtool check metrics)', async () => {
    const exposition = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(exposition).toMatch(/^# HELP grantgate_graphql_requests_total /m);
    const check = promtoolCheckMetrics(exposition);
    expect(check.output).toBe('');
    expect(check.status).toBe(0);
    // METRICS_PORT serves the metrics and nothing else.
    expect((await fetch(`http://127.0.0.1:${metricsPort}/graphql`)).status).toBe(404);
  });

  it('scrapes the request counter, and its HTTP API answers it after traffic', async () => {
    const url = await gateway.url;
    const { accessToken } = await loginAs(url, 'u1');
    for (let i = 0; i < 7; i++) await postGraphQL(url, '{ customersCount }', { token: accessToken });
    const query = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(
      'sum(grantgate_graphql_requests_total{job="grantgate",operation="query",outcome="ok"})',
    )}`;
    await vi.waitFor(
      async () => {
        const body = (await (await fetch(query)).json()) as {
          status: string;
          data: { result: { value: [number, string] }[] };
        };
        expect(body.status).toBe('success');
        expect(Number(body.data.result[0]?.value[1])).toBeGreaterThanOrEqual(7);
      },
      { timeout: 15_000, interval: 500 },
    );
  }, 30_000);
});
