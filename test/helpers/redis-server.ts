import { Redis } from 'ioredis';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';
import { installedProgram, startDaemon } from './daemon.js';

/** A throw-away Redis (Debian's redis-server) on a free loopback port, keeping nothing on disk. */
export async function startRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const program = installedProgram(['/usr/bin/redis-server', '/usr/local/bin/redis-server'], 'redis-server');
  const port = await findFreePort();
  const url = `redis://127.0.0.1:${port}`;
  const { stop } = await startDaemon({
    name: 'redis-server',
    program,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    ready: async () => {
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => {}); // refused while the server starts: asked again
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } finally {
        client.disconnect();
      }
    },
  });
  return { url, stop };
}
