import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';

/**
 * Where the first of `paths` that exists is: a server program from a Debian package the test
 * command's pretest step installs (test/prerequisites.ts). Throws how to install it otherwise.
 */
export function installedProgram(paths: string[], debianPackage: string): string {
  const found = paths.find(existsSync);
  if (!found)
    throw new Error(
      `${basename(paths[0]!)} is not installed: \`apt-get install ${debianPackage}\` (npm test's pretest installs it)`,
    );
  return found;
}

export interface Daemon {
  /** What it wrote to stderr so far (with `stderr: true`). */
  stderr(): string;
  /** Stops it (`stopSignal`), waits for it to exit and removes its folder. */
  stop(): Promise<void>;
}

/** How long a server gets to answer `ready` before the test gives up on it. */
const START_TIMEOUT_MS = 10_000;

/**
 * Runs a server the tests need (slapd, redis-server, nginx, pgbouncer, prometheus) as a child of
 * the test process, in the foreground, and resolves once `ready()` answers true: a server that
 * exits or does not get ready within 10 s is stopped and reported with `failure()` (by default what
 * it wrote to stderr). Its folder, when it has one, goes with it.
 */
export async function startDaemon(options: {
  name: string;
  program: string;
  args: string[];
  /** A folder of its own (configuration, data, logs), removed when it stops. */
  dir?: string;
  /** Signal that stops it at once, finishing what it serves (nginx: SIGQUIT; pgbouncer: SIGINT). */
  stopSignal?: NodeJS.Signals;
  stderr?: boolean;
  /** Extra spawn options (the user to run as). */
  spawnOptions?: SpawnOptions;
  ready: () => Promise<boolean>;
  failure?: () => Promise<string>;
}): Promise<Daemon> {
  const child: ChildProcess = spawn(options.program, options.args, {
    stdio: ['ignore', 'ignore', options.stderr ? 'pipe' : 'ignore'],
    ...options.spawnOptions,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(options.stopSignal ?? 'SIGTERM');
      await exited;
    }
    if (options.dir) await rm(options.dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  for (;;) {
    try {
      if (await options.ready()) return { stderr: () => stderr, stop };
    } catch (error) {
      lastError = error; // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      const reason = options.failure ? await options.failure() : stderr;
      await stop();
      throw new Error(
        `${options.name} did not start: ${reason.slice(-2000) || (lastError as Error | undefined)?.message || 'no output'}`,
        { cause: lastError },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
