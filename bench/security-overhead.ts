/**
 * `npm run bench`: what row security costs.
 * 1. The second layer: `s1`'s secured customer list through a gateway with both layers (application
 *    filter + PostgreSQL policies under the application role, one transaction per request) against
 *    one with the application filter only.
 * 2. The first layer: `s1`, whose grants and global filters select the rows, against `sa` reading the
 *    same rows with the equivalent explicit `where`.
 * Everything runs through HTTP for the same time per case; the script prints requests/s, p50/p99
 * latency, the ratios and the SQL statements per request. DATABASE_URL or the embedded database; the
 * demo data is seeded if the database is empty (`npm run seed -- --scale N --reset` for more rows).
 *
 *   npm run bench [-- --seconds 10 --connections 10]
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { assembleGateway } from '../src/assemble.js';
import { loadConfigOrExit } from '../src/config.js';
import { DATA_DIR, openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' } },
});
const config = { ...loadConfigOrExit(), logLevel: 'warn' as const };
const log = createLogger(config);
const database = await openDatabase(config, log);

async function startGateway(databaseLayer: boolean) {
  const { gateway, auth, queryLog } = await assembleGateway({
    databaseUrl: database.url,
    prepare: { seed: 'demo' },
    log,
    auth: { config: { ...config, seed: 'demo', nodeEnv: 'development' }, dataDir: DATA_DIR },
    databaseLayer,
  });
  const url = await gateway.listen(0, '127.0.0.1');
  const token = async (username: string) =>
    `Bearer ${(await auth.service.login(username, 'p', `bench-${username}`)).accessToken}`;
  return { url, token, queryLog, stop: () => gateway.stop() };
}
type BenchGateway = Awaited<ReturnType<typeof startGateway>>;

const FIELDS = '{ id companyName contactName creditLimit region clientId }';
const filtered = `{ customers(limit: 1000, orderBy: [{ id: ASC }]) ${FIELDS} }`;
const explicit = `{ customers(limit: 1000, orderBy: [{ id: ASC }], where: {
  clientId: { eq: 2 }, region: { eq: "British Isles" },
  OR: [{ creditLimit: { gt: 300 } }, { contactName: { eq: "Mike" } }] }) ${FIELDS} }`;

/** One request's answer, and the SQL statements it ran. */
async function post(gateway: BenchGateway, query: string, authorization: string) {
  const statements: string[] = [];
  const stop = gateway.queryLog.listen((sql) => statements.push(sql));
  try {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query }),
    });
    return { body: JSON.stringify(await response.json()), statements };
  } finally {
    stop();
  }
}

async function drive(gateway: BenchGateway, query: string, authorization: string) {
  const result = await autocannon({
    url: gateway.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query }),
    connections: Number(values.connections),
    duration: Number(values.seconds),
  });
  if (result.errors || result.non2xx)
    throw new Error(`${result.errors} errors, ${result.non2xx} non-2xx responses`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const line = (name: string, r: Awaited<ReturnType<typeof drive>>) =>
  `${name.padEnd(44)} ${r.rps.toFixed(0).padStart(6)} req/s   p50 ${r.p50} ms   p99 ${r.p99} ms`;
const percent = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;

const bothLayers = await startGateway(true);
const appOnly = await startGateway(false);
const salesBoth = await bothLayers.token('s1');
const salesApp = await appOnly.token('s1');
const superuser = await bothLayers.token('sa');

const [a, b, c] = [
  await post(bothLayers, filtered, salesBoth),
  await post(appOnly, filtered, salesApp),
  await post(bothLayers, explicit, superuser),
];
if (a.body !== b.body || a.body !== c.body)
  throw new Error(`the reads differ:\n${a.body}\n${b.body}\n${c.body}`);
const rows = (JSON.parse(a.body) as { data: { customers: unknown[] } }).data.customers.length;
console.log(`${rows} customer rows per request, ${values.connections} connections, ${values.seconds} s each`);
console.log(
  `SQL statements per request: both layers ${a.statements.length} (${a.statements.join(' | ').slice(0, 120)}…), application filter only ${b.statements.length}`,
);

// Warm every path (JIT, plans, pools) before measuring.
await drive(bothLayers, filtered, salesBoth);
await drive(appOnly, filtered, salesApp);
await drive(bothLayers, explicit, superuser);
const secured = await drive(bothLayers, filtered, salesBoth);
const withoutDatabaseLayer = await drive(appOnly, filtered, salesApp);
const unfiltered = await drive(bothLayers, explicit, superuser);

console.log(line('s1, both layers (app filter + PostgreSQL RLS)', secured));
console.log(line('s1, application filter only', withoutDatabaseLayer));
console.log(line('sa with the same explicit where', unfiltered));
console.log(
  `both layers / application filter only: ${percent(secured.rps, withoutDatabaseLayer.rps)} of the throughput`,
);
console.log(`filtered (s1) / unfiltered (sa) throughput: ${percent(secured.rps, unfiltered.rps)}`);

await bothLayers.stop();
await appOnly.stop();
await database.close();
