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
