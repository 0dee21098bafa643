import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type EmbeddedDatabase,
  findFreePort,
  startEmbeddedPostgres,
} from '../../src/db/embedded/embedded-postgres.js';
import {
  type GatewayProcess,
  loginAs,
  postGraphQL,
  startGatewayProcess,
} from '../helpers/gateway-process.js';

/**
 * The database goes away under a running gateway and comes back. The test owns this PostgreSQL (an
 * embedded one on a port of its own), so stopping it disturbs no other test.
 */
const log = pino({ level: 'silent' });
let dataDir: string;
let port: number;
let postgres: EmbeddedDatabase;
let gateway: GatewayProcess;
let url: string;

const startPostgres = () => startEmbeddedPostgres({ dataDir, log, persistent: true, port });

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'grantgate-outage-'));
  port = await findFreePort();
  postgres = await startPostgres();
  // A long pool wait, so that failing fast cannot be mistaken for giving up after DB_POOL_TIMEOUT.
  gateway = startGatewayProcess({ DATABASE_URL: postgres.serverUrl, DB_POOL_TIMEOUT: '20s' });
  url = await gateway.url;
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await postgres?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const readiness = async () => (await fetch(new URL('/readyz', url))).status;
const shipperName = async (id: number) => {
  const client = new pg.Client({ connectionString: postgres.serverUrl });
  await client.connect();
  try {
    return (await client.query('select company_name from shipper where id = $1', [id])).rows[0]?.company_name;
  } finally {
    await client.end();
  }
};

describe('a database outage', () => {
  it('turns /readyz false, fails requests fast and masked, writes nothing half, and recovers by itself', async () => {
    const { accessToken } = await loginAs(url, 'sa');
    expect(await readiness()).toBe(200);
    expect((await postGraphQL(url, '{ customersCount }', { token: accessToken })).data).toEqual({
      customersCount: 91,
    });
    const nameBefore = await shipperName(1);

    // A write in flight when the database stops: its transaction has begun and waits for the row.
    const locker = new pg.Client({ connectionString: postgres.serverUrl });
    await locker.connect();
    locker.on('error', () => {}); // its connection dies with the server
    await locker.query('begin; lock table shipper in exclusive mode');
    const inFlightWrite = postGraphQL(
      url,
      'mutation { updateShipper(id: "1", input: { companyName: "Half" }) { id } }',
      {
        token: accessToken,
      },
    );
    await vi.waitFor(async () => {
      const waiting = await locker.query(
        "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and pid <> pg_backend_pid()",
      );
      if (waiting.rows[0].n !== 1) throw new Error('the update is not waiting yet');
    });

    await postgres.stop();

    const interrupted = await inFlightWrite;
    expect(interrupted.data).toBeNull();
    expect(interrupted.errors).toEqual([
      expect.objectContaining({
        message: 'The database is unavailable. Try again shortly.',
        extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }),
      }),
    ]);
    expect(await readiness()).toBe(503);

    const started = performance.now();
    const during = await postGraphQL(url, '{ customers(limit: 3) { id companyName } }', {
      token: accessToken,
    });
    const took = performance.now() - started;
    expect(during.status).toBe(200);
    expect(during.data).toBeNull();
    expect(during.errors).toEqual([
      {
        message: 'The database is unavailable. Try again shortly.',
        locations: expect.any(Array),
        path: ['customers'],
        extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
      },
    ]);
    // Far below DB_POOL_TIMEOUT (20 s): a refused connection is not waited on.
    expect(took).toBeLessThan(5000);
    expect(JSON.stringify(during)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|select|shipper/i);

    postgres = await startPostgres();
    await vi.waitFor(async () => expect(await readiness()).toBe(200), { timeout: 10_000, interval: 100 });
    // The same token, the same process: no restart, no new login.
    expect((await postGraphQL(url, '{ customersCount }', { token: accessToken })).data).toEqual({
      customersCount: 91,
    });
    // The interrupted write left nothing behind.
    expect(await shipperName(1)).toBe(nameBefore);
    // Every resolver above threw; the process kept serving.
    expect(gateway.output()).not.toMatch(/could not start|unhandled|uncaught/i);
    expect(await Promise.race([gateway.exited, 'running'])).toBe('running');
  }, 60_000);
});
