/**
 * `npm run bench`: the read shapes of compare.sh (the side-by-side with PostGraphile) and six more,
 * on the demo data and at larger volumes, through HTTP in production mode with both row-security
 * layers on. For each
 * scale it uses a database of its own on the same server (`grantgate_bench_s<N>` next to
 * DATABASE_URL's, or in the embedded server), seeded once at that scale and analyzed, and prints per
 * shape the rows answered, the SQL statements per request (data statements, then the transaction's
 * framing), requests/s and p50 latency; then the same statements, framing and settings included, run
 * by pgbench over as many connections (bench/pgbench-reference.ts), and the gateway's req/s ÷ pgbench's:
 * how much of a request's time is PostgreSQL's.
 *
 * `--database-prefix` names them otherwise (`<prefix><N>`), so that benches of several checkouts sharing
 * one server (whose migrations may differ) do not seed into each other's databases.
 *
 * `--skewed` reads databases of their own (`<prefix><N>_skewed`) where one tenant holds nine customers
 * (and their orders) in ten: each shape `u1` asks is asked by `u1`, of that tenant, and again by `u2`,
 * of a tenant that kept a few.
 *
 * `--pooler` puts Debian's PgBouncer (transaction mode, as many server connections as the gateway's
 * pool) between the gateway and PostgreSQL, the gateway in DATABASE_POOLER=transaction: what a pooler
 * costs (pgbench still runs against PostgreSQL itself).
 *
 * `--tracing` turns OpenTelemetry on (src/tracing.ts), its spans exported by OTLP to a receiver of the
 * bench's own that reads and discards them: what tracing costs.
 *
 * `--shapes` picks some of them (`S3,X1`); `--rounds` measures the scales in turn that many times
 * (each round after the other, so that a machine's passing load falls on every scale alike) and then
 * prints the median req/s of each shape per scale.
 *
 *   npm run bench [-- --scales 1,100 --seconds 8 --connections 20 --shapes S1,S3 --rounds 1
 *                    --database-prefix grantgate_bench_s --skewed --pooler --tracing]
 */
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import northwind from '../demo/northwind/index.js';
import { assembleGateway } from '../src/assemble.js';
import { loadConfigOrExit } from '../src/config.js';
import { DATA_DIR, openDatabase } from '../src/db/database.js';
import { asMaintenance } from '../src/db/maintenance.js';
import { isTransactionFraming } from '../src/db/request-transaction.js';
import { runSql } from '../src/db/raw-sql.js';
import { createLogger } from '../src/logger.js';
import { startTracing } from '../src/tracing.js';
import { AFTER, afterFirstPage } from './connection-page.js';
import { driveGraphql, median } from './drive-graphql.js';
import { pgbenchRate } from './pgbench-reference.js';
import { postCountingSql as post } from './post-counting-sql.js';
import { pickShapes, SHAPE_HEADER, shapeLine } from './shape-line.js';
// The tests' PgBouncer: the bench starts it as they do.
import { startPgBouncer } from '../test/helpers/pgbouncer.js';

const { values } = parseArgs({
  options: {
    scales: { type: 'string', default: '1,100' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '20' },
    shapes: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    'database-prefix': { type: 'string', default: 'grantgate_bench_s' },
    skewed: { type: 'boolean', default: false },
    pooler: { type: 'boolean', default: false },
    tracing: { type: 'boolean', default: false },
  },
});
const scales = values.scales.split(',').map(Number);
if (scales.some((scale) => !Number.isInteger(scale) || scale < 1)) {
  console.error(`--scales takes whole numbers separated by commas (got "${values.scales}")`);
  process.exit(1);
}

/** The five shapes of compare.sh (S1–S5) and six more, with the user each is asked as. */
const FIELDS = 'id companyName contactName city country';
const SHAPES = [
  { id: 'S1', user: 's1', what: 'its customers', query: '{ customers { id companyName } }' },
  {
    id: 'S2',
    user: 'u1',
    what: 'first 100 customers, 5 fields',
    query: `{ customers(limit: 100) { ${FIELDS} } }`,
  },
  {
    id: 'S3',
    user: 'u1',
    what: '50 orders + customer + lines + product + category',
    query:
      '{ orders(limit: 50) { id customer { companyName } details { quantity product { productName category { categoryName } } } } }',
  },
  { id: 'S4', user: 'u1', what: 'count of customers', query: '{ customersCount }' },
  {
    id: 'S5',
    user: 'sa',
    what: "S2's rows by an explicit where",
    query: `{ customers(limit: 100, where: { clientId: { eq: 1 } }) { ${FIELDS} } }`,
  },
  // Beyond compare.sh: per-parent pages with a filter and a sort, and counts through the scopes.
  {
    id: 'X1',
    user: 'u1',
    what: '20 customers, each its 3 latest orders over a freight, 2 lines each',
    query:
      '{ customers(limit: 20, orderBy: [{ companyName: ASC }]) { id orders(limit: 3, orderBy: [{ orderDate: DESC }], where: { freight: { gt: 10 } }) { id freight details(limit: 2) { quantity } } } }',
  },
  {
    id: 'X2',
    user: 'u1',
    what: 'orders counted through the scope (grows with the data)',
    query: '{ ordersCount }',
  },
  // Issue 27: an aggregate, a group-by, a relation filter and a connection page, each over the orders
  // the scope lets u1 read (all of them grow with the data but X6's page).
  {
    id: 'X3',
    user: 'u1',
    what: 'its orders aggregated: count, sum/avg freight, min/max freight and date',
    query:
      '{ ordersAggregate { count sum { freight } avg { freight } min { freight orderDate } max { freight orderDate } } }',
  },
  {
    id: 'X4',
    user: 'u1',
    what: 'its orders grouped by ship country: count, sum freight, by country',
    query:
      '{ ordersGroupBy(by: [shipCountry], orderBy: [{ key: { shipCountry: ASC } }]) { key { shipCountry } count sum { freight } } }',
  },
  {
    id: 'X5',
    user: 'u1',
    what: 'customers with some order over 100 freight (relation filter), by id',
    query:
      '{ customers(limit: 100, where: { orders: { some: { freight: { gt: 100 } } } }, orderBy: [{ id: ASC }]) { id companyName } }',
  },
  {
    id: 'X6',
    user: 'u1',
    what: 'connection: the 50 orders after the first 50 by date desc, totalCount',
    // The page after the first one's end cursor (connection-page.ts).
    query: `{ ordersConnection(first: 50${AFTER}, orderBy: [{ orderDate: DESC }]) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id orderDate freight } } } }`,
  },
];

const picked = pickShapes(SHAPES, values.shapes);
/** With --skewed, what u1 (the large tenant) asks is asked by u2 (a small one) as well. */
const shapes = picked.flatMap((shape) =>
  values.skewed && shape.user === 'u1' ? [shape, { ...shape, id: `${shape.id}'`, user: 'u2' }] : [shape],
);
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds takes a whole number (got "${values.rounds}")`);
  process.exit(1);
}

const config = { ...loadConfigOrExit(), logLevel: 'warn' as const };
const log = createLogger(config);
const traces = values.tracing ? await tracedToDiscard() : undefined;

/** Tracing on, its spans sent to a receiver on loopback that reads them and answers as a collector. */
async function tracedToDiscard() {
  let bytes = 0;
  const receiver = createServer((req, res) => {
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const stop = await startTracing(log);
  return {
    stop: async () => {
      await stop?.();
      receiver.close();
      console.log(`tracing: ${(bytes / 2 ** 20).toFixed(1)} MiB of spans received by OTLP`);
    },
  };
}
const server = await openDatabase(config, log);

/** The URL of database `name` on the server of `url`, created when missing. */
async function databaseNamed(url: string, name: string): Promise<string> {
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

async function startGateway(databaseUrl: string, scale: number) {
  const bouncer = values.pooler ? await startPgBouncer(databaseUrl, config.dbPoolSize) : undefined;
  const { gateway, orm, auth, queryLog } = await assembleGateway({
    domain: northwind,
    databaseUrl: bouncer?.url ?? databaseUrl,
    pool: { size: config.dbPoolSize, pooler: bouncer ? 'transaction' : 'none' },
    prepare: { seed: 'none' },
    log,
    // The demo users (password `p`) are created whatever NODE_ENV says, since the bench logs in as them.
    auth: { config: { ...config, seed: 'demo', nodeEnv: 'development' }, dataDir: DATA_DIR },
    settings: {
      production: true,
      introspection: false,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      maxResultObjects: config.maxResultObjects,
    },
  });
  if (await asMaintenance(orm, (em) => northwind.demoData!.isEmpty(em))) {
    const started = performance.now();
    await asMaintenance(orm, (em) => northwind.demoData!.write(em, scale));
    // Tenant 1 takes four in five customers of every other tenant (their orders follow them through
    // the scope): nine in ten of all.
    if (values.skewed)
      await asMaintenance(orm, (em) =>
        runSql(em, 'update customer set client_id = 1 where client_id <> 1 and abs(hashtext(id)) % 5 < 4'),
      );
    console.log(`seeded scale ${scale} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  // The planner's statistics, as autovacuum keeps them in production.
  await runSql(orm.em.fork(), 'analyze');
  const url = await gateway.listen(0, '127.0.0.1');
  const token = async (username: string) =>
    `Bearer ${(await auth.service.login(username, 'p', `bench-${username}`)).accessToken}`;
  return {
    url,
    token,
    queryLog,
    stop: async () => {
      await gateway.stop();
      await bouncer?.stop();
    },
  };
}

console.log(
  `production mode, both row-security layers on, ${values.connections} connections, ${values.seconds} s per shape after 2 s warm-up${values.pooler ? ', through PgBouncer (transaction mode)' : ''}${values.tracing ? ', traced' : ''}`,
);
/** req/s measured per scale and shape, over the rounds. */
const measured = new Map<string, number[]>();
for (let round = 1; round <= rounds; round++) {
  for (const scale of scales) {
    const databaseUrl = await databaseNamed(
      server.url,
      `${values['database-prefix']}${scale}${values.skewed ? '_skewed' : ''}`,
    );
    const gateway = await startGateway(databaseUrl, scale);
    console.log(`\nscale ${scale}${rounds > 1 ? `, round ${round} of ${rounds}` : ''}`);
    console.log(SHAPE_HEADER);
    // Each shape's answer and statements first, on an idle gateway: after a load, requests still queued
    // for a connection when it stopped run on, and their statements would count as the next shape's.
    const asked = [];
    for (const shape of shapes) {
      const authorization = await gateway.token(shape.user);
      const query = await afterFirstPage(
        shape.query,
        async (firstPage) => (await post(gateway, firstPage, authorization)).body,
      );
      const first = await post(gateway, query, authorization);
      const answer = JSON.parse(first.body) as { data?: unknown; errors?: unknown };
      if (answer.errors || !answer.data) throw new Error(`${shape.id} failed: ${first.body.slice(0, 300)}`);
      const data = first.statements.filter((sql) => !isTransactionFraming(sql)).length;
      asked.push({
        shape,
        authorization,
        query,
        first,
        answer,
        data,
        framing: first.statements.length - data,
      });
    }
    for (const { shape, authorization, query, first, answer, data, framing } of asked) {
      const { rps, p50, bad } = await driveGraphql({
        url: gateway.url,
        query,
        authorization,
        expected: first.body,
        connections: Number(values.connections),
        seconds: Number(values.seconds),
      });
      const key = `${shape.id}  scale ${scale}`;
      measured.set(key, [...(measured.get(key) ?? []), rps]);
      const reference = await pgbenchRate(databaseUrl, first.sent, {
        connections: Number(values.connections),
        seconds: Number(values.seconds),
      });
      console.log(
        `${shapeLine(shape, { data: answer.data, statements: data, framing, rps, p50, bad })}  | pgbench ${reference.toFixed(0)}/s, gateway ÷ pgbench ${(rps / reference).toFixed(2)}`,
      );
    }
    await gateway.stop();
  }
}
if (rounds > 1) {
  console.log(`\nmedian req/s of ${rounds} rounds`);
  for (const [key, all] of [...measured].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(
      `${key.padEnd(16)}  ${median(all).toFixed(0).padStart(7)}   (${all.map((rps) => rps.toFixed(0)).join(', ')})`,
    );
  }
}
await traces?.stop();
await server.close();
