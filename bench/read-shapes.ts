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
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { isTransactionFraming } from '../src/db/request-transaction.js';
import { createLogger } from '../src/logger.js';
import { startTracing } from '../src/tracing.js';
import { benchGateway, databaseNamed, discardingOtlpReceiver } from './bench-gateway.js';
import { afterFirstPage } from './connection-page.js';
import { driveGraphql, median } from './drive-graphql.js';
import { pgbenchRate } from './pgbench-reference.js';
import { postCountingSql as post } from './post-counting-sql.js';
import { SHAPES } from './read-shape-list.js';
import { pickShapes, SHAPE_HEADER, shapeLine, wholeNumberOption } from './shape-line.js';
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

const picked = pickShapes(SHAPES, values.shapes);
/** With --skewed, what u1 (the large tenant) asks is asked by u2 (a small one) as well. */
const shapes = picked.flatMap((shape) =>
  values.skewed && shape.user === 'u1' ? [shape, { ...shape, id: `${shape.id}'`, user: 'u2' }] : [shape],
);
const rounds = wholeNumberOption('--rounds', values.rounds);

const config = { ...loadConfigOrExit(), logLevel: 'warn' as const };
const log = createLogger(config);
const traces = values.tracing ? await tracedToDiscard() : undefined;

/** Tracing on, its spans sent to a receiver of the bench's own. */
async function tracedToDiscard() {
  const receiver = await discardingOtlpReceiver();
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  const stop = await startTracing(log);
  return {
    stop: async () => {
      await stop?.();
      await receiver.close();
      console.log(`tracing: ${(receiver.bytes() / 2 ** 20).toFixed(1)} MiB of spans received by OTLP`);
    },
  };
}
const server = await openDatabase(config, log);

async function startGateway(databaseUrl: string, scale: number) {
  const bouncer = values.pooler ? await startPgBouncer(databaseUrl, config.dbPoolSize) : undefined;
  const { gateway, auth, queryLog } = await benchGateway({
    config,
    log,
    databaseUrl,
    bouncerUrl: bouncer?.url,
    scale,
    skewed: values.skewed,
  });
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
