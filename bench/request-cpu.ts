/**
 * `npm run bench:request-cpu`: what one request costs the gateway's own process in CPU time, read from
 * the kernel's accounting of its threads (Linux's /proc) over a fixed number of requests. Throughput
 * on a 2-core machine shared with PostgreSQL and the load generator moves by 10–20 % from run to run;
 * the CPU time a request costs the gateway moves by a few per cent, so a change of the per-request
 * path or of tracing is measured here, and `npm run bench` says what it means in requests per second.
 *
 * The gateway runs as `npm start` runs it (`node --import tsx/esm src/main.ts`, production mode, both
 * row-security layers on), on the demo data at scale 1 (the database `npm run bench` seeds,
 * `grantgate_bench_s1`), loaded by autocannon from this process. Each `--tracing` mode is a gateway
 * process of its own, started in turn in each round: `off`; `all` (every request traced, spans sent by
 * OTLP to a receiver here that reads and discards them); a ratio such as `0.1`
 * (`parentbased_traceidratio`); `never` (`always_off`: the SDK started, nothing sampled).
 *
 * Printed per shape and mode: µs of CPU per request on the main thread (JavaScript, the event loop's
 * system calls) and on the others (V8's garbage collector and compiler, libuv), and req/s.
 *
 *   npm run bench:request-cpu [-- --shapes S1,S4 --requests 30000 --connections 20 --rounds 2
 *                                --tracing off,all,0.1,never]
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { loginAs, startGatewayProcess } from '../test/helpers/gateway-process.js';
import { benchGateway, databaseNamed, discardingOtlpReceiver } from './bench-gateway.js';
import { afterFirstPage } from './connection-page.js';
import { answerOf, driveGraphqlRequests } from './drive-graphql.js';
import { SHAPES } from './read-shape-list.js';
import { pickShapes, wholeNumberOption } from './shape-line.js';

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: 'S1,S2,S4' },
    requests: { type: 'string', default: '30000' },
    connections: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '2' },
    tracing: { type: 'string', default: 'off' },
  },
});
const shapes = pickShapes(SHAPES, values.shapes);
const requests = wholeNumberOption('--requests', values.requests);
const connections = wholeNumberOption('--connections', values.connections);
const rounds = wholeNumberOption('--rounds', values.rounds);
const modes = values.tracing.split(',').map((mode) => mode.trim());
const badMode = modes.find((mode) => !['off', 'all', 'never'].includes(mode) && !isRatio(mode));
if (badMode !== undefined) {
  console.error(`--tracing takes off, all, never or a ratio (0.1), separated by commas (got "${badMode}")`);
  process.exit(1);
}

const mean = (all: number[]) => all.reduce((sum, value) => sum + value, 0) / all.length;

function isRatio(mode: string): boolean {
  const ratio = Number(mode);
  return mode !== '' && ratio >= 0 && ratio <= 1;
}

/** The OTEL_* variables of a tracing mode: `off` unsets the endpoints this shell may have set. */
function tracingEnvironment(mode: string, endpoint: string): Record<string, string> {
  const unset = { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
  if (mode === 'off') return unset;
  const sampler: Record<string, string> =
    mode === 'all'
      ? { OTEL_TRACES_SAMPLER: 'parentbased_always_on' }
      : mode === 'never'
        ? { OTEL_TRACES_SAMPLER: 'always_off' }
        : { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: mode };
  return { ...unset, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...sampler };
}

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU time (µs) of process `pid` so far: its main thread's, and its other threads' together. */
function threadTimes(pid: number): { main: number; others: number } {
  const times = { main: 0, others: 0 };
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${thread}/stat`, 'utf8');
    } catch {
      continue; // a thread that ended since the listing
    }
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const micros = ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND;
    times[Number(thread) === pid ? 'main' : 'others'] += micros;
  }
  return times;
}

const config = { ...loadConfigOrExit(), logLevel: 'warn' as const };
const log = createLogger(config);
const server = await openDatabase(config, log);
const databaseUrl = await databaseNamed(server.url, 'grantgate_bench_s1');
// Seeds the database and writes the demo users once; the measured gateways are processes of their own.
await (await benchGateway({ config, log, databaseUrl, scale: 1 })).gateway.stop();
const receiver = await discardingOtlpReceiver();

console.log(
  `gateway CPU per request: production mode, both row-security layers on, scale 1, ${connections} connections, ${requests} requests per shape after ${Math.ceil(requests / 10)} not counted`,
);
console.log('mode      shape  user  main µs  other µs  all µs    req/s');
const measured = new Map<string, number[]>();
for (let round = 1; round <= rounds; round++) {
  if (rounds > 1) console.log(`round ${round} of ${rounds}`);
  for (const mode of modes) {
    const gateway = startGatewayProcess({
      DATABASE_URL: databaseUrl,
      NODE_ENV: 'production',
      JWT_SECRET: 'bench-request-cpu-0123456789abcdef0123456789abcdef',
      DOMAIN: 'domain',
      LOG_LEVEL: 'warn',
      ...tracingEnvironment(mode, receiver.url),
    });
    try {
      const url = await gateway.url;
      for (const shape of shapes) {
        const authorization = `Bearer ${(await loginAs(url, shape.user)).accessToken}`;
        const query = await afterFirstPage(shape.query, (firstPage) =>
          answerOf(url, firstPage, authorization),
        );
        const expected = await answerOf(url, query, authorization);
        const parsed = JSON.parse(expected) as { errors?: unknown };
        if (parsed.errors) throw new Error(`${shape.id} failed: ${expected.slice(0, 300)}`);
        // Plans, caches and V8's compiled code settled before anything is counted.
        const load = { url, query, authorization, expected, connections };
        await driveGraphqlRequests({ ...load, amount: Math.ceil(requests / 10) });
        const before = threadTimes(gateway.pid!);
        const { rps, bad } = await driveGraphqlRequests({ ...load, amount: requests });
        const after = threadTimes(gateway.pid!);
        const main = (after.main - before.main) / requests;
        const others = (after.others - before.others) / requests;
        const key = `${shape.id} ${mode}`;
        measured.set(key, [...(measured.get(key) ?? []), main + others]);
        console.log(
          `${mode.padEnd(8)}  ${shape.id.padEnd(5)}  ${shape.user.padEnd(4)}  ${main.toFixed(0).padStart(7)}  ${others.toFixed(0).padStart(8)}  ${(main + others).toFixed(0).padStart(6)}  ${rps.toFixed(0).padStart(7)}${bad ? `  (${bad} failed or different answers)` : ''}`,
        );
      }
    } finally {
      await gateway.stop();
    }
  }
}
if (rounds > 1 || modes.length > 1) {
  console.log(
    `\nµs of CPU per request: mean of ${rounds} round(s) (lowest–highest), and against tracing off`,
  );
  for (const shape of shapes) {
    const off = measured.get(`${shape.id} off`);
    for (const mode of modes) {
      const all = measured.get(`${shape.id} ${mode}`)!;
      const against = off && mode !== 'off' ? `  ${((mean(all) / mean(off) - 1) * 100).toFixed(1)} %` : '';
      console.log(
        `${shape.id.padEnd(5)}  ${mode.padEnd(8)}  ${mean(all).toFixed(0).padStart(6)} (${Math.min(...all).toFixed(0)}–${Math.max(...all).toFixed(0)})${against}`,
      );
    }
  }
}
await receiver.close();
await server.close();
