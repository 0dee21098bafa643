import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserStore } from '../auth-providers/sql/user-store.js';
import { isAlive, waitUntilGone } from '../src/db/embedded/process-info.js';
import { loginAs, postGraphQL, startGatewayProcess } from './helpers/gateway-process.js';
import { runProjectCli } from './helpers/project-cli.js';
import { createTestDatabase, type TestDatabase } from './helpers/test-database.js';

/** Logs in as the demo superuser, then sends `query` with its token. */
async function graphql(url: string, query: string) {
  const { status: _status, ...body } = await postGraphQL(url, query, {
    token: (await loginAs(url, 'sa')).accessToken,
  });
  return body;
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
    const first = startGatewayProcess({ DATABASE_URL: db.url });
    const url = await first.url;
    expect(await graphql(url, '{ customersCount }')).toEqual({ data: { customersCount: 91 } });
    expect(await first.stop()).toBe(0);
    expect(first.output()).toMatch(/seeded the demo data/);
    expect(first.output()).toMatch(/"msg":"stopped"/);

    const second = startGatewayProcess({ DATABASE_URL: db.url });
    expect(await graphql(await second.url, '{ customersCount }')).toEqual({ data: { customersCount: 91 } });
    expect(await second.stop()).toBe(0);
    expect(second.output()).not.toMatch(/seeded the demo data/);
  });

  it('with SEED=none creates the tables and leaves them empty, without demo users', async () => {
    const db = await emptyDatabase();
    const started = startGatewayProcess({ DATABASE_URL: db.url, SEED: 'none' });
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
    const started = startGatewayProcess({ PORT: 'abc' });
    expect(await started.exited).toBe(1);
    expect(started.output().trim()).toBe(
      'Invalid configuration: PORT must be a whole number from 0 to 65535 (got "abc")',
    );
  });

  it('refuses a PORT in use in one line, before any database work', async () => {
    const db = await emptyDatabase();
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    cleanups.push(() => new Promise((done) => taken.close(done)));
    const port = (taken.address() as AddressInfo).port;
    const started = startGatewayProcess({ DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: 'fatal' });
    expect(await started.exited).toBe(1);
    const lines = started.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).msg).toBe(
      `could not start: Invalid configuration: PORT ${port} is in use on 127.0.0.1: stop what listens there, or choose another PORT (0: any free port)`,
    );
    // Nothing was migrated, seeded or created in the database.
    const { rows } = await db.sql.query(
      "select count(*)::int as n from pg_class where relnamespace in ('public'::regnamespace, (select oid from pg_namespace where nspname = 'auth'))",
    );
    expect(rows[0].n).toBe(0);
  });

  it("in production serves the demo with a warning, and refuses a team's domain on a database where a user still has the demo password, naming them", async () => {
    const db = await emptyDatabase();
    const demo = startGatewayProcess({ DATABASE_URL: db.url, SEED: 'users' });
    await demo.url;
    expect(await demo.stop()).toBe(0);
    const users = new UserStore(db.url);
    await users.setPassword('u1', 'a password of its own');
    await users.setDisabled('u2', true);
    await users.close();
    const production = { DATABASE_URL: db.url, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(32) };

    // The demo in production is a demo: its own accounts, and a warning saying so.
    const demoInProduction = startGatewayProcess({ ...production, LOG_LEVEL: 'warn' });
    await demoInProduction.url;
    expect(demoInProduction.output()).toMatch(/NODE_ENV=production serves a demo/);
    expect(await demoInProduction.stop()).toBe(0);

    // The team imports that database: the demo's accounts are leftovers in it now.
    const out = `test/.imported-start-${randomBytes(4).toString('hex')}`;
    cleanups.push(() => rm(resolve(ROOT, out), { recursive: true, force: true }));
    const imported = await runProjectCli('src/tools/cli/import-schema.ts', ['--out', out], {
      databaseUrl: db.url,
      env: { DOMAIN: 'domain' },
    });
    expect(imported.code).toBe(0);
    const team = startGatewayProcess({ ...production, DOMAIN: out, LOG_LEVEL: 'fatal' });
    expect(await team.exited).toBe(1);
    const lines = team.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!).msg).toBe(
      'could not start: NODE_ENV=production, and the demo password "p" still logs in as ALFKI, ANATR, admin, aneu, p1, r1, s1, sa, sam: ' +
        'give each a password of its own (npm run auth -- user set-password <id> --password <p>) or disable it (npm run auth -- user disable <id>)',
    );
    expect(lines[0]).not.toMatch(/"stack"/);
  }, 120_000);
});

describe('npm start with no database configured', () => {
  it('runs an embedded PostgreSQL under .data/, keeps its data, and stops it on SIGTERM', async () => {
    const home = await mkdtemp(join(tmpdir(), 'grantgate-start-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));

    const cold = startGatewayProcess({}, home);
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

    const warm = startGatewayProcess({}, home);
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

/**
 * A folder that is the project for npm (every top-level entry linked) but has its own `.data/`, so
 * `npm start` runs its embedded PostgreSQL apart from any other test's.
 */
const ROOT = resolve(import.meta.dirname, '..');

async function projectCopy(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), 'grantgate-npm-start-'));
  cleanups.push(() => rm(home, { recursive: true, force: true }));
  for (const entry of await readdir(ROOT)) {
    if (entry !== '.data' && entry !== '.git') await symlink(join(ROOT, entry), join(home, entry));
  }
  return home;
}

describe('npm start under a supervisor', () => {
  it('stops the gateway and its embedded PostgreSQL when the npm process gets SIGTERM', async () => {
    const home = await projectCopy();
    // What a supervisor or `docker stop` does: start `npm start`, later signal that one process.
    const npm = spawn('npm', ['start'], {
      cwd: home,
      env: {
        ...process.env,
        DATABASE_URL: '',
        PORT: '0',
        LOG_LEVEL: 'info',
        // What a fresh clone's `npm start` serves (domain/ points there until an import replaces it).
        DOMAIN: 'demo/northwind',
        // tsx applies a tsconfig to the files under its folder, and the linked files resolve to ROOT.
        TSX_TSCONFIG_PATH: join(ROOT, 'tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a failed run can still stop everything it started.
      detached: true,
    });
    const exited = new Promise<number | null>((done) => npm.once('exit', (code) => done(code)));
    cleanups.push(async () => {
      if (npm.exitCode !== null) return;
      process.kill(-npm.pid!, 'SIGTERM');
      await exited;
    });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk));
    while (!/grantgate is ready at/.test(output)) {
      if (npm.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      await new Promise((done) => setTimeout(done, 100));
    }
    const postmaster = Number(
      (await readFile(join(home, '.data/postgres/postmaster.pid'), 'utf8')).split('\n')[0],
    );
    expect(await isAlive(postmaster)).toBe(true);

    npm.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toMatch(/"msg":"stopped"/);
    expect(await waitUntilGone(postmaster, 10_000)).toBe(true);
    // A clean PostgreSQL shutdown removes its pid file.
    expect(existsSync(join(home, '.data/postgres/postmaster.pid'))).toBe(false);
  }, 120_000);
});
