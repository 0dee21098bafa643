import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';
import { type GatewayProcess, loginAs, startGatewayProcess } from '../helpers/gateway-process.js';
import { startNginx } from '../helpers/nginx.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * SPEC §12, rolling restarts: two replicas started by `npm start` behind Debian's nginx, under a
 * steady load of reads and writes, each in turn sent SIGTERM and started again. Not one request may
 * fail: the draining replica answers what it has, each response closing its connection, and nginx
 * passes what it cannot send there to the other.
 */
let db: TestDatabase;
let nginx: Awaited<ReturnType<typeof startNginx>>;
const ports: number[] = [];
const replicas: GatewayProcess[] = [];

const env = (port: number) => ({
  DATABASE_URL: db.url,
  PORT: String(port),
  JWT_SECRET: 'one secret shared by every replica!!!',
  SHUTDOWN_GRACE: '2s',
  LOG_LEVEL: 'info',
});
const startReplica = (port: number) => startGatewayProcess(env(port), undefined, { viaNpm: true });

beforeAll(async () => {
  db = await createTestDatabase();
  ports.push(await findFreePort(), await findFreePort());
  // One after the other: both would migrate the same new database at once.
  for (const port of ports) {
    const replica = startReplica(port);
    replicas.push(replica);
    await replica.url;
  }
  nginx = await startNginx(ports.map((port) => `127.0.0.1:${port}`));
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await nginx?.stop();
  await db?.drop();
});

interface Outcome {
  ok: number;
  /** Writes answered as made. */
  writes: number;
  failed: string[];
  upstreams: Set<string>;
}

/** `workers` clients posting one after the other until `until` resolves: reads and shipper writes. */
async function load(token: string, workers: number, until: Promise<unknown>): Promise<Outcome> {
  const outcome: Outcome = { ok: 0, writes: 0, failed: [], upstreams: new Set() };
  let stopped = false;
  void until.finally(() => (stopped = true));
  const post = async (query: string, check: (data: Record<string, unknown>) => boolean): Promise<boolean> => {
    try {
      const response = await fetch(`${nginx.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      const text = await response.text();
      const body = (
        response.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : {}
      ) as {
        data?: Record<string, unknown>;
        errors?: unknown[];
      };
      if (response.status !== 200 || body.errors || !body.data || !check(body.data)) {
        outcome.failed.push(`${response.status} ${text.slice(0, 200)}`);
        return false;
      }
      outcome.ok++;
      // nginx names every replica it tried: one refused the connection, the next answered.
      for (const upstream of (response.headers.get('x-upstream') ?? 'none').split(', ')) {
        outcome.upstreams.add(upstream);
      }
      return true;
    } catch (error) {
      outcome.failed.push(String((error as Error).cause ?? error));
      return false;
    }
  };
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let n = 0; !stopped; n++) {
        if (n % 5 === 4) {
          const made = await post(
            `mutation { createShipper(input: { companyName: "Rolling ${worker}-${n}" }) { id } }`,
            (data) => typeof (data.createShipper as { id?: unknown })?.id === 'string',
          );
          if (made) outcome.writes++;
        } else {
          await post(
            '{ shippersCount customers(limit: 5) { id } }',
            (data) => data.shippersCount !== undefined,
          );
        }
      }
    }),
  );
  return outcome;
}

describe('two replicas behind nginx', () => {
  it('restart one after the other under load without losing a request', async () => {
    const { accessToken } = await loginAs(`${nginx.url}/graphql`, 'sa');
    const before = Number((await db.sql.query('select count(*)::int as n from shipper')).rows[0].n);
    let restarted!: () => void;
    const done = new Promise<void>((resolve) => (restarted = resolve));
    const running = load(accessToken, 12, done);

    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await pause(1000);
    for (const [index, port] of ports.entries()) {
      const exitCode = await replicas[index]!.stop();

      expect(exitCode, replicas[index]!.output()).toBe(0);
      expect(replicas[index]!.output()).toMatch(/the listener closes in 2000 ms/);
      replicas[index] = startReplica(port);
      await replicas[index].url;
      await pause(1000);
    }
    restarted();
    const outcome = await running;

    expect(outcome.failed, await nginx.errors()).toEqual([]);
    expect(outcome.ok).toBeGreaterThan(200);
    expect([...outcome.upstreams].sort()).toEqual(ports.map((port) => `127.0.0.1:${port}`).sort());
    // Every write answered was made, once, and none other.
    const after = Number((await db.sql.query('select count(*)::int as n from shipper')).rows[0].n);
    expect(after - before).toBe(outcome.writes);
    expect(outcome.writes).toBeGreaterThan(20);
  }, 180_000);
});
