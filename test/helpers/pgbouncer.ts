import { chown, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';
import { installedProgram, startDaemon } from './daemon.js';

/** Debian's `nobody`. */
const NOBODY = 65534;

/**
 * Debian's PgBouncer (`npm test`'s pretest installs it) on a free loopback port in front of the
 * server of `databaseUrl`, in transaction mode with a stock configuration otherwise: no
 * `ignore_startup_parameters`, no prepared-statement support (1.18 has none), `poolSize` server
 * connections per database and user. Returns `databaseUrl` as seen through it.
 */
export async function startPgBouncer(
  databaseUrl: string,
  poolSize: number,
): Promise<{ url: string; log(): Promise<string>; stop(): Promise<void> }> {
  const program = installedProgram(['/usr/sbin/pgbouncer', '/usr/local/bin/pgbouncer'], 'pgbouncer');
  const server = new URL(databaseUrl);
  const dir = await mkdtemp(join(tmpdir(), 'grantgate-pgbouncer-'));
  const port = await findFreePort();
  const user = decodeURIComponent(server.username);
  // Clients are trusted; the password (the embedded server's) is what PgBouncer logs in to the server with.
  const quoted = (text: string) => `"${text.replaceAll('"', '""')}"`;
  await writeFile(
    join(dir, 'userlist.txt'),
    `${quoted(user)} ${quoted(decodeURIComponent(server.password))}\n`,
  );
  await writeFile(
    join(dir, 'pgbouncer.ini'),
    `[databases]
* = host=${server.hostname} port=${server.port || 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${join(dir, 'userlist.txt')}
pool_mode = transaction
default_pool_size = ${poolSize}
max_client_conn = 500
logfile = ${join(dir, 'pgbouncer.log')}
pidfile = ${join(dir, 'pgbouncer.pid')}
`,
  );
  // PgBouncer refuses to run as root: then it runs as nobody, in a folder of its own.
  const asUser = process.getuid?.() === 0 ? { uid: NOBODY, gid: NOBODY } : {};
  if (asUser.uid !== undefined) {
    for (const file of ['', 'userlist.txt', 'pgbouncer.ini']) await chown(join(dir, file), NOBODY, NOBODY);
  }
  const log = () => readFile(join(dir, 'pgbouncer.log'), 'utf8').catch(() => '');
  const { stop } = await startDaemon({
    name: 'pgbouncer',
    program,
    args: [join(dir, 'pgbouncer.ini')],
    dir,
    // Its safe shutdown: the transactions it is passing on finish first.
    stopSignal: 'SIGINT',
    spawnOptions: asUser,
    ready: () => accepts(port),
    failure: log,
  });
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.password = '';
  return { url: url.toString(), log, stop };
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
