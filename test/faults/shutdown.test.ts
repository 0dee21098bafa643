import { Agent, request } from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type GatewayProcess,
  loginAs,
  postGraphQL,
  startGatewayProcess,
} from '../helpers/gateway-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let db: TestDatabase;
let gateway: GatewayProcess;
beforeAll(async () => {
  db = await createTestDatabase();
  gateway = startGatewayProcess({ DATABASE_URL: db.url });
  await gateway.url;
}, 60_000);
afterAll(async () => {
  await gateway?.stop();
  await db?.drop();
});

const IN_FLIGHT = 5;

describe('SIGTERM', () => {
  it('lets in-flight requests finish, refuses new ones, and exits cleanly', async () => {
    const url = await gateway.url;
    const { accessToken } = await loginAs(url, 'sa');

    // Hold the requests inside the database so they are still running when the signal arrives.
    await db.sql.query('begin; lock table shipper in access exclusive mode');
    const inFlight = Array.from({ length: IN_FLIGHT }, (_, i) =>
      postGraphQL(url, `{ shippers(limit: ${i + 1}) { id } }`, { token: accessToken }),
    );
    // Watched from another session: polling from the lock holder's own transaction kept PostgreSQL
    // from admitting the gateway's new connections.
    const observer = new pg.Client({ connectionString: db.url });
    await observer.connect();
    await vi.waitFor(async () => {
      const { rows } = await observer.query(
        "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()",
      );
      if (rows[0].n !== IN_FLIGHT) throw new Error(`${rows[0].n} of ${IN_FLIGHT} requests are waiting`);
    }, 5000);
    await observer.end();

    const exited = gateway.stop();
    await gateway.waitForOutput(/shutting down/);
    await expect(postGraphQL(url, '{ shippersCount }', { token: accessToken })).rejects.toThrow();
    expect(await Promise.race([exited, 'still draining'])).toBe('still draining');

    await db.sql.query('rollback');
    const answers = await Promise.all(inFlight);
    answers.forEach((answer, i) => {
      expect(answer.status).toBe(200);
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({ shippers: expect.any(Array) });
      expect((answer.data!.shippers as unknown[]).length).toBe(Math.min(i + 1, 3));
    });
    expect(await exited).toBe(0);
    expect(gateway.output()).toMatch(/"msg":"stopped"/);
  }, 60_000);
});

/** One request on `agent`'s kept-alive connection; its status, its Connection header and its body. */
function get(url: string, agent: Agent): Promise<{ status: number; connection?: string; body: string }> {
  return new Promise((done, failed) => {
    request(url, { agent }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk));
      response.on('end', () =>
        done({ status: response.statusCode!, connection: response.headers.connection, body }),
      );
    })
      .on('error', failed)
      .end();
  });
}

describe('SIGTERM with SHUTDOWN_GRACE', () => {
  it('answers /readyz 503 at once and serves until the grace ends; then refuses connections and closes kept-alive ones after their next response', async () => {
    const graced = startGatewayProcess({ DATABASE_URL: db.url, SHUTDOWN_GRACE: '3s' });
    const base = new URL(await graced.url).origin;
    const keptAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    const fresh = new Agent({ keepAlive: false });
    try {
      const before = await get(`${base}/readyz`, keptAlive);
      expect([before.status, before.connection]).toEqual([200, 'keep-alive']);

      const exited = graced.stop();
      await graced.waitForOutput(/the listener closes in 3000 ms/);
      // Taken out of rotation, still serving on the same connection and on new ones.
      const draining = await get(`${base}/readyz`, keptAlive);
      expect([draining.status, draining.connection]).toEqual([503, 'keep-alive']);
      expect(JSON.parse(draining.body)).toEqual({ status: 'unavailable', reason: 'shutting down' });
      expect((await get(`${base}/healthz`, fresh)).status).toBe(200);

      // Then the listener closes: a new connection is refused, which a proxy may pass on elsewhere.
      await vi.waitFor(() => expect(get(`${base}/healthz`, fresh)).rejects.toThrow(/ECONNREFUSED/), {
        timeout: 5000,
        interval: 100,
      });
      // The kept-alive connection is not cut under a request: the next one is answered, and closes it.
      const last = await get(`${base}/healthz`, keptAlive);
      expect([last.status, last.connection]).toEqual([200, 'close']);

      expect(await exited).toBe(0);
      expect(graced.output()).toMatch(/"msg":"stopped"/);
    } finally {
      keptAlive.destroy();
      await graced.stop();
    }
  }, 60_000);
});
