import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserStore } from '../auth-providers/sql/user-store.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-database.js';

const ROOT = resolve(import.meta.dirname, '..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const MAIN = join(ROOT, 'src/main.ts');

interface Started {
  url: Promise<string>;
  exited: Promise<number | null>;
  output: () => string;
  stop(): Promise<number | null>;
}

/** Runs `npm start`'s entry point as a separate process, the way a user does. */
function startGateway(env: Record<string, string>, cwd = ROOT): Started {
  // --tsconfig: tsx looks for it in the working directory, which is not always the project here.
  const child = spawn(process.execPath, [TSX, '--tsconfig', join(ROOT, 'tsconfig.json'), MAIN], {
    cwd,
    env: { ...process.env, DATABASE_URL: '', PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = new Promise<string>((found, failed) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = output.match(/grantgate is ready at (\S+)/);
      if (match) found(match[1]!);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => failed(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  // Tests that expect an early exit never await the URL.
  url.catch(() => {});
  return {
    url,
    exited,
    output: () => output,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Logs in as the demo superuser, then sends `query` with its token. */
async function graphql(url: string, query: string) {
  const send = async (body: object, headers: Record<string, string> = {}) =>
    (await (
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      })
    ).json()) as {
      data?: Record<string, { accessToken?: string } & Record<string, unknown>>;
      errors?: unknown[];
    };
  const login = await send({ query: 'mutation { login(username: "sa", password: "p") { accessToken } }' });
  return send({ query }, { authorization: `Bearer ${login.data!.login!.accessToken}` });
}

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function emptyDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ empty: true });
  cleanups.push(() => db.drop());
  return db;
}

describe('npm start against DATABASE_URL', () => {
  it('migrates and seeds an empty database, serves it, stops on SIGTERM, and does not seed twice', async () => {
    const db = await emptyDatabase();
    const first = startGateway({ DATABASE_URL: db.url });
    const url = await first.url;
    expect(await graphql(url, '{ customersCount }')).toEqual({ data: { customersCount: 91 } });
    expect(await first.stop()).toBe(0);
    expect(first.output()).toMatch(/seeded the demo data/);
    expect(first.output()).toMatch(/"msg":"stopped"/);

    const second = startGateway({ DATABASE_URL: db.url });
    expect(await graphql(await second.url, '{ customersCount }')).toEqual({ data: { customersCount: 91 } });
    expect(await second.stop()).toBe(0);
    expect(second.output()).not.toMatch(/seeded the demo data/);
  });

  it('with SEED=none creates the tables and leaves them empty, without demo users', async () => {
    const db = await emptyDatabase();
    const started = startGateway({ DATABASE_URL: db.url, SEED: 'none' });
    const url = await started.url;
    expect((await db.sql.query('select count(*)::int as n from auth."user"')).rows[0].n).toBe(0);
    const users = new UserStore(db.url);
    await users.addUser({ id: 'sa', roles: ['sa'], attributes: {}, password: 'p' });
    await users.close();
    expect(await graphql(url, '{ customersCount ordersCount }')).toEqual({
      data: { customersCount: 0, ordersCount: 0 },
    });
    expect(await started.stop()).toBe(0);
  });

  it('refuses bad configuration with one line naming the variable', async () => {
    const started = startGateway({ PORT: 'abc' });
    expect(await started.exited).toBe(1);
    expect(started.output().trim()).toBe(
      'Invalid configuration: PORT must be a whole number from 0 to 65535 (got "abc")',
    );
  });

  it('reports a port already in use in one line and exits', async () => {
    const db = await emptyDatabase();
    const first = startGateway({ DATABASE_URL: db.url, SEED: 'none' });
    const port = new URL(await first.url).port;
    const second = startGateway({ DATABASE_URL: db.url, SEED: 'none', PORT: port });
    expect(await second.exited).toBe(1);
    expect(second.output()).toMatch(/could not start: listen EADDRINUSE/);
    expect(await first.stop()).toBe(0);
  });
});

describe('npm start with no database configured', () => {
  it('runs an embedded PostgreSQL under .data/, keeps its data, and stops it on SIGTERM', async () => {
    const home = await mkdtemp(join(tmpdir(), 'grantgate-start-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));

    const cold = startGateway({}, home);
    const url = await cold.url;
    expect(await graphql(url, '{ customersCount }')).toEqual({ data: { customersCount: 91 } });
    const created = await graphql(
      url,
      'mutation { createShipper(input: { companyName: "Kept Across Restarts" }) { id } }',
    );
    expect(created.errors).toBeUndefined();
    expect(await cold.stop()).toBe(0);
    // A clean PostgreSQL shutdown removes its pid file; a killed one leaves it behind.
    expect(existsSync(join(home, '.data/postgres/PG_VERSION'))).toBe(true);
    expect(existsSync(join(home, '.data/postgres/postmaster.pid'))).toBe(false);

    const warm = startGateway({}, home);
    const kept = await graphql(
      await warm.url,
      '{ shippers(where: { companyName: { eq: "Kept Across Restarts" } }) { id } }',
    );
    expect(kept).toEqual({
      data: { shippers: [{ id: (created.data!.createShipper as { id: string }).id }] },
    });
    expect(await warm.stop()).toBe(0);
    expect(warm.output()).not.toMatch(/creating the embedded PostgreSQL cluster/);
  }, 120_000);
});
