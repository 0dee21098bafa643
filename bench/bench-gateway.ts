import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import pg from 'pg';
import northwind from '../demo/northwind/index.js';
import { assembleGateway } from '../src/assemble.js';
import { type Config } from '../src/config.js';
import { DATA_DIR } from '../src/db/database.js';
import { asMaintenance } from '../src/db/maintenance.js';
import { runSql } from '../src/db/raw-sql.js';
import { type Logger } from '../src/logger.js';

/** The URL of database `name` on the server of `url`, created when missing. */
export async function databaseNamed(url: string, name: string): Promise<string> {
  const target = new URL(url);
  target.pathname = `/${name}`;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (!rowCount) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  return target.toString();
}

/**
 * The demo gateway in production mode on `databaseUrl` (or a pooler in front of it, `bouncerUrl`),
 * not yet listening: the demo users (password `p`) are created whatever NODE_ENV says, since the
 * benches log in as them, and an empty database is seeded at `scale` (with `skewed`, tenant 1 takes
 * four in five customers of every other tenant, and their orders follow them through the scope: nine
 * in ten of all). Then analyzed, as autovacuum keeps a database in production.
 */
export async function benchGateway(options: {
  config: Config;
  log: Logger;
  databaseUrl: string;
  bouncerUrl?: string;
  scale: number;
  skewed?: boolean;
}) {
  const { config, log, scale } = options;
  const assembled = await assembleGateway({
    domain: northwind,
    databaseUrl: options.bouncerUrl ?? options.databaseUrl,
    pool: { size: config.dbPoolSize, pooler: options.bouncerUrl ? 'transaction' : 'none' },
    prepare: { seed: 'none' },
    log,
    auth: { config: { ...config, seed: 'demo', nodeEnv: 'development' }, dataDir: DATA_DIR },
    settings: {
      production: true,
      introspection: false,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      maxResultObjects: config.maxResultObjects,
    },
  });
  const { orm } = assembled;
  if (await asMaintenance(orm, (em) => northwind.demoData!.isEmpty(em))) {
    const started = performance.now();
    await asMaintenance(orm, (em) => northwind.demoData!.write(em, scale));
    if (options.skewed)
      await asMaintenance(orm, (em) =>
        runSql(em, 'update customer set client_id = 1 where client_id <> 1 and abs(hashtext(id)) % 5 < 4'),
      );
    console.log(`seeded scale ${scale} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  await runSql(orm.em.fork(), 'analyze');
  return assembled;
}

/**
 * An OTLP receiver on loopback that reads what it is sent and answers as a collector does: where the
 * benches' traced gateways export their spans, so that exporting costs what it costs in production.
 */
export async function discardingOtlpReceiver() {
  let bytes = 0;
  const receiver = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
    bytes: () => bytes,
    close: () => new Promise<void>((resolve) => receiver.close(() => resolve())),
  };
}
