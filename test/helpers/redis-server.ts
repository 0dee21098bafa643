import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(existsSync);

/** A throw-away Redis (Debian's redis-server, which .ci/run installs) on a free loopback port, keeping nothing on disk. */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  if (!REDIS_SERVER) {
    throw new Error(
      'redis-server is not installed: `apt-get install redis-server` (.ci/run installs it when missing)',
    );
  }
  const port = await findFreePort();
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
  };
  for (let attempt = 0; ; attempt++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {}); // refused while the server starts: retried below
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return { url, stop };
    } catch (error) {
      client.disconnect();
      if (attempt > 50 || child.exitCode !== null) {
        await stop();
        throw new Error(`redis-server did not start: ${(error as Error).message}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
