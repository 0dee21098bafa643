/**
 * Who runs the embedded cluster under a data directory, and recovery when that process died without
 * stopping PostgreSQL (SIGKILL, OOM): its server lives on, orphaned, holding postmaster.pid, and a
 * plain start would fail on PostgreSQL's lock file.
 *
 * The process that starts the server records itself in `postgres-owner.json` beside the cluster,
 * created exclusively so that one process at a time holds the cluster. A record whose process is gone
 * is stale: the next process takes the claim, stops the orphaned server (or drops a postmaster.pid
 * whose server is gone) and starts afresh. Two processes recovering at the same instant are settled
 * by PostgreSQL's own lock file: the loser's server refuses to start, and it says so in one line.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { type Logger } from 'pino';
import { commandLineOf, isAlive, startTimeOf, waitUntilGone } from './process-info.js';

/** A start-up failure of the embedded database, explained in its one-line message. */
export class EmbeddedDatabaseError extends Error {}

interface Owner {
  pid: number;
  /** Tells the recorded process from a later one that was given the same pid (Linux). */
  startTime?: string;
  /** How a refusal names it: "the gateway", "src/tools/cli/migrate.ts". */
  holder: string;
}

interface Postmaster {
  pid: number;
  port: number;
  ready: boolean;
}

export type Claim =
  { kind: 'claimed'; release(): Promise<void> } | { kind: 'held'; owner: Owner; port: number | undefined };

/** PostgreSQL's fast shutdown (SIGINT) ends the connections of the dead holder and checkpoints. */
const FAST_SHUTDOWN_MS = 15_000;
/** How long a sharing process waits for a holder that is still starting the server. */
const HOLDER_START_MS = 60_000;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** postmaster.pid: pid, data directory, start time, port, socket directory, listen address, shmem key, status. */
export async function readPostmasterPid(clusterDir: string): Promise<Postmaster | undefined> {
  let text: string;
  try {
    text = await readFile(join(clusterDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  return { pid: Number(lines[0]), port: Number(lines[3]), ready: lines[7]?.trim() === 'ready' };
}

/** A pid from postmaster.pid may since have been given to another program: check it runs `postgres -D <cluster>`. */
async function isPostgresOf(pid: number, clusterDir: string): Promise<boolean> {
  const argv = await commandLineOf(pid);
  if (!argv?.[0] || basename(argv[0]) !== 'postgres') return false;
  const dataDir = argv[argv.indexOf('-D') + 1];
  return argv.includes('-D') && dataDir !== undefined && resolve(dataDir) === resolve(clusterDir);
}

async function readOwner(file: string): Promise<Owner | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Owner;
  } catch {
    // Missing, or being written by a process that has just claimed the cluster.
    return undefined;
  }
}

async function ownerIsAlive(owner: Owner): Promise<boolean> {
  if (!Number.isInteger(owner.pid) || !(await isAlive(owner.pid))) return false;
  return owner.startTime === undefined || (await startTimeOf(owner.pid)) === owner.startTime;
}

/** Stops a server nobody holds any more; says how. */
async function stopOrphan(pid: number, clusterDir: string): Promise<string> {
  try {
    process.kill(pid, 'SIGINT');
    if (await waitUntilGone(pid, FAST_SHUTDOWN_MS)) return 'a fast shutdown';
    process.kill(pid, 'SIGKILL');
    if (await waitUntilGone(pid, 5_000))
      return `SIGKILL (no fast shutdown within ${FAST_SHUTDOWN_MS / 1000} s)`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 'itself (it exited meanwhile)';
    throw new EmbeddedDatabaseError(
      `an orphaned PostgreSQL (pid ${pid}) runs on ${clusterDir} and this user cannot stop it (${(error as Error).message}): stop it by hand`,
    );
  }
  throw new EmbeddedDatabaseError(`an orphaned PostgreSQL (pid ${pid}) on ${clusterDir} survives SIGKILL`);
}

/** With the claim taken: clears what a dead holder left in the cluster, in one log line. */
async function recoverCluster(clusterDir: string, previous: Owner | undefined, log: Logger) {
  const postmaster = await readPostmasterPid(clusterDir);
  if (!postmaster) return;
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!(await isAlive(postmaster.pid)) || !(await isPostgresOf(postmaster.pid, clusterDir))) {
    // PostgreSQL would refuse a pid file whose pid now names a live process of another program.
    await rm(pidFile, { force: true });
    const why = (await isAlive(postmaster.pid)) ? 'is now another program' : 'is gone';
    log.warn(
      { pid: postmaster.pid, dir: clusterDir },
      `embedded PostgreSQL recovery: removed a stale postmaster.pid (its server, pid ${postmaster.pid}, ${why})`,
    );
    return;
  }
  const how = await stopOrphan(postmaster.pid, clusterDir);
  // A fast shutdown removes the pid file; a killed server leaves it behind.
  await rm(pidFile, { force: true });
  const leftBy = previous ? `${previous.holder} (pid ${previous.pid}), which died` : 'a process that is gone';
  log.warn(
    { pid: postmaster.pid, dir: clusterDir },
    `embedded PostgreSQL recovery: stopped the orphaned server (pid ${postmaster.pid}) left by ${leftBy}, by ${how}; starting it again`,
  );
}

/**
 * Takes the cluster for this process (recovering from a dead holder first), or reports the live
 * holder. With `waitForServer`, a holder still starting its server is awaited, so the caller can
 * connect to it.
 */
export async function claimCluster(options: {
  dataDir: string;
  clusterDir: string;
  holder: string;
  waitForServer: boolean;
  log: Logger;
}): Promise<Claim> {
  const ownerFile = join(options.dataDir, 'postgres-owner.json');
  const me: Owner = { pid: process.pid, startTime: await startTimeOf(process.pid), holder: options.holder };
  const mine = JSON.stringify(me);
  const deadline = Date.now() + HOLDER_START_MS;
  let unreadableSince: number | undefined;
  let previous: Owner | undefined;
  for (;;) {
    try {
      await writeFile(ownerFile, mine, { flag: 'wx', mode: 0o644 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(ownerFile);
    if (!owner) {
      // Give a holder that has just created the file a moment to fill it; then it is debris.
      unreadableSince ??= Date.now();
      if (Date.now() - unreadableSince > 1_000) await rm(ownerFile, { force: true });
      await sleep(50);
      continue;
    }
    unreadableSince = undefined;
    if (!(await ownerIsAlive(owner))) {
      previous = owner;
      await rm(ownerFile, { force: true });
      continue;
    }
    const postmaster = await readPostmasterPid(options.clusterDir);
    const serving =
      postmaster?.ready && (await isPostgresOf(postmaster.pid, options.clusterDir))
        ? postmaster.port
        : undefined;
    if (!options.waitForServer || serving !== undefined) return { kind: 'held', owner, port: serving };
    if (Date.now() > deadline) {
      throw new EmbeddedDatabaseError(
        `the embedded database under ${options.dataDir} is held by ${owner.holder} (pid ${owner.pid}), whose server is not ready after ${HOLDER_START_MS / 1000} s`,
      );
    }
    await sleep(100);
  }

  const release = async () => {
    // Only our own record: after a recovery race another process may hold the file now.
    if ((await readFile(ownerFile, 'utf8').catch(() => '')) === mine) await rm(ownerFile, { force: true });
  };
  try {
    await recoverCluster(options.clusterDir, previous, options.log);
  } catch (error) {
    await release();
    throw error;
  }
  return { kind: 'claimed', release };
}
