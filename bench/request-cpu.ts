/**
 * `npm run bench:request-cpu`: what one request costs the gateway's own process in CPU time, read from
 * the kernel's accounting of its threads (Linux's /proc) over a fixed number of requests. Throughput
 * on a 2-core machine shared with PostgreSQL and the load generator moves by 10–20 % from run to run,
 * and on a busy VM the CPU time of the same request moves as much from one minute to the next. So every
 * gateway measured runs at once and they are measured in short bursts, in turn, each round starting
 * with another: each is compared with the first burst by burst (the median of those ratios), each pair
 * measured within seconds of each other, and none always first or last in its round. Before that, each
 * mode measured in one long run after the other drifted by up to 40 % between runs of the same code;
 * and in twelve bursts each in a fixed order, `never`, measured right after `off`, came out 5.4 %
 * dearer than `off`, against 0.7 % with the order turned.
 *
 * The gateway runs as `npm start` runs it (`node --import tsx/esm src/main.ts`, production mode, both
 * row-security layers on), on the demo data at scale 1 (the database `npm run bench` seeds,
 * `grantgate_bench_s1`), loaded by autocannon from this process. Each `--tracing` mode is a gateway
 * process of its own: `off`; `all` (every request traced, spans sent by OTLP to a receiver here that
 * reads and discards them); a ratio such as `0.1` (`parentbased_traceidratio`); `never`
 * (`always_off`: the SDK started, nothing sampled).
 *
 * Printed per burst, shape and gateway: µs of CPU per request on the main thread (JavaScript, the event
 * loop's system calls) and on the others (V8's garbage collector and compiler, libuv), and req/s; with
 * `--meter instructions`, the instructions the gateway ran per request instead, counted by valgrind,
 * which the machine's load does not move (bench/process-meters.ts).
 *
 *   npm run bench:request-cpu [-- --shapes S1,S4 --requests 5000 --connections 20 --rounds 6
 *                                --tracing off,all,0.1,never --against ../before --meter instructions]
 *
 * `--requests` is a burst's size, `--rounds` the bursts per shape and gateway. The first gateway is
 * `--tracing`'s first mode; with `--against <dir>`, each mode is also run by another checkout of the
 * project, whose gateways come first: a change of the code measured as the modes are (a checkout of
 * the commit before: `git worktree add ../before HEAD~1 && ln -s $PWD/node_modules ../before/`).
 */
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { loginAs, startGatewayProcess } from '../test/helpers/gateway-process.js';
import { benchGateway, databaseNamed, discardingOtlpReceiver } from './bench-gateway.js';
import { afterFirstPage } from './connection-page.js';
import { answerOf, driveGraphqlRequests, type GraphqlLoad, median } from './drive-graphql.js';
import { processMeter } from './process-meters.js';
import { SHAPES } from './read-shape-list.js';
import { pickShapes, wholeNumberOption } from './shape-line.js';

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: 'S1,S2,S4' },
    requests: { type: 'string' },
    connections: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '6' },
    tracing: { type: 'string', default: 'off' },
    against: { type: 'string' },
    meter: { type: 'string', default: 'cpu' },
  },
});
let meter;
try {
  meter = processMeter(values.meter);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const shapes = pickShapes(SHAPES, values.shapes);
const requests = wholeNumberOption('--requests', values.requests ?? String(meter.defaultRequests));
const connections = wholeNumberOption('--connections', values.connections);
const rounds = wholeNumberOption('--rounds', values.rounds);
const modes = values.tracing.split(',').map((mode) => mode.trim());
if (new Set(modes).size !== modes.length) {
  console.error(`--tracing names each mode once (got "${values.tracing}")`);
  process.exit(1);
}
const badMode = modes.find((mode) => !['off', 'all', 'never'].includes(mode) && !isRatio(mode));
if (badMode !== undefined) {
  console.error(`--tracing takes off, all, never or a ratio (0.1), separated by commas (got "${badMode}")`);
  process.exit(1);
}

/**
 * The gateways measured, by label: each tracing mode of this checkout and, with `--against <dir>`
 * (another checkout of the project, e.g. a `git worktree` of an earlier commit with this one's
 * node_modules linked), each of that one's first. Every gateway is compared with the first.
 */
const against = values.against === undefined ? undefined : resolve(values.against);
const gatewaysToRun = [
  ...(against ? modes.map((mode) => ({ label: `${mode}@${basename(against)}`, mode, root: against })) : []),
  ...modes.map((mode) => ({ label: mode, mode, root: undefined })),
];
const baseline = gatewaysToRun[0]!.label;
const labelWidth = Math.max(8, ...gatewaysToRun.map(({ label }) => label.length));

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

const config = { ...loadConfigOrExit(), logLevel: 'warn' as const };
const log = createLogger(config);
const server = await openDatabase(config, log);
const databaseUrl = await databaseNamed(server.url, 'grantgate_bench_s1');
// Seeds the database and writes the demo users once; the measured gateways are processes of their own.
await (await benchGateway({ config, log, databaseUrl, scale: 1 })).gateway.stop();
const receiver = await discardingOtlpReceiver();

console.log(
  `gateway ${values.meter === 'cpu' ? 'CPU' : values.meter} per request: production mode, both row-security layers on, scale 1, ${connections} connections; every gateway up at once, measured in turn, ${rounds} burst(s) of ${requests} requests per shape and gateway`,
);
const gateways = new Map(
  gatewaysToRun.map(({ label, mode, root }) => [
    label,
    startGatewayProcess(
      {
        DATABASE_URL: databaseUrl,
        NODE_ENV: 'production',
        JWT_SECRET: 'bench-request-cpu-0123456789abcdef0123456789abcdef',
        DOMAIN: 'domain',
        LOG_LEVEL: 'warn',
        ...tracingEnvironment(mode, receiver.url),
      },
      root,
      { root, under: meter.under },
    ),
  ]),
);
try {
  /** Per shape and gateway: what to send, and the CPU per request of each burst. */
  const loads = new Map<string, { load: GraphqlLoad; pid: number; bursts: number[] }>();
  for (const [label, gateway] of gateways) {
    const url = await gateway.url;
    for (const shape of shapes) {
      const authorization = `Bearer ${(await loginAs(url, shape.user)).accessToken}`;
      const query = await afterFirstPage(shape.query, (firstPage) => answerOf(url, firstPage, authorization));
      const expected = await answerOf(url, query, authorization);
      const parsed = JSON.parse(expected) as { errors?: unknown };
      if (parsed.errors) throw new Error(`${shape.id} failed: ${expected.slice(0, 300)}`);
      const load = { url, query, authorization, expected, connections };
      // Plans, caches and V8's compiled code settled before anything is counted.
      await driveGraphqlRequests({ ...load, amount: meter.warmUpRequests });
      loads.set(`${shape.id} ${label}`, { load, pid: gateway.pid!, bursts: [] });
    }
    await meter.begin(gateway.pid!);
  }
  const labels = [...gateways.keys()];
  console.log(
    `burst  ${'gateway'.padEnd(labelWidth)}  shape  user  ${meter.columns.map((column) => column.padStart(8)).join('  ')}    req/s`,
  );
  for (let burst = 1; burst <= rounds; burst++) {
    for (const shape of shapes) {
      // Each round starts with another gateway, so that none is always measured first or last.
      const turn = burst % labels.length;
      for (const label of [...labels.slice(turn), ...labels.slice(0, turn)]) {
        const measuring = loads.get(`${shape.id} ${label}`)!;
        // Not counted: the pool closes connections idle for 10 s (pg's default), as this gateway's may
        // be while the others are measured (under valgrind, always), and a burst would count their
        // reopening: a new session, its statements prepared anew.
        await driveGraphqlRequests({ ...measuring.load, amount: 5 * connections });
        const { totals, result } = await meter.measure(measuring.pid, () =>
          driveGraphqlRequests({ ...measuring.load, amount: requests }),
        );
        const perRequest = totals.map((total) => total / requests);
        measuring.bursts.push(perRequest.at(-1)!);
        console.log(
          `${String(burst).padStart(5)}  ${label.padEnd(labelWidth)}  ${shape.id.padEnd(5)}  ${shape.user.padEnd(4)}  ${perRequest.map((value) => value.toFixed(0).padStart(8)).join('  ')}  ${result.rps.toFixed(0).padStart(7)}${result.bad ? `  (${result.bad} failed or different answers)` : ''}`,
        );
      }
    }
  }
  console.log(
    `\n${meter.columns.at(-1)} per request: mean of the bursts (lowest–highest); against ${baseline}, the median of each burst's ratio to ${baseline}'s burst of the same round (lowest–highest)`,
  );
  for (const shape of shapes) {
    const base = loads.get(`${shape.id} ${baseline}`)!.bursts;
    for (const label of labels) {
      const { bursts } = loads.get(`${shape.id} ${label}`)!;
      const ratios = label === baseline ? [] : bursts.map((us, at) => (us / base[at]! - 1) * 100);
      const compared = ratios.length
        ? `  ${median(ratios).toFixed(1)} % (${Math.min(...ratios).toFixed(1)} … ${Math.max(...ratios).toFixed(1)})`
        : '';
      console.log(
        `${shape.id.padEnd(5)}  ${label.padEnd(labelWidth)}  ${mean(bursts).toFixed(0).padStart(6)} (${Math.min(...bursts).toFixed(0)}–${Math.max(...bursts).toFixed(0)})${compared}`,
      );
    }
  }
} finally {
  await Promise.all([...gateways.values()].map((gateway) => gateway.stop()));
  meter.close();
}
await receiver.close();
await server.close();
