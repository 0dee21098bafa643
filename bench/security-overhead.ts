/**
 * `npm run bench:security`: what row security costs.
 * 1. The second layer: `s1`'s secured customer list through a gateway with both layers (application
 *    filter + PostgreSQL policies under the application role, one transaction per request) against
 *    one with the application filter only.
 * 2. The first layer: `s1`, whose grants and global filters select the rows, against `sa` reading the
 *    same rows with the equivalent explicit `where`.
 * 3. A scope: `u1` (tenant, client 1) reading its orders and their lines, which it sees only through
 *    the scopes Order → customer and OrderDetail → order (an `exists` on the parent's visible key in
 *    the gateway, an EXISTS policy in the database), against `sa` reading the same orders with an
 *    explicit `customerId in [client 1's customer ids]` (fetched once before measuring) and the same
 *    nested lines. Both through the gateway with both layers; the issue's target is that the scoped
 *    read keeps at least 85 % of the throughput.
 * Each pair's answers must be byte-identical before anything is measured. Everything runs through
 * HTTP for the same time per case; the script prints requests/s, p50/p99 latency, the ratios and the
 * SQL statements per request. DATABASE_URL or the embedded database; the demo data is seeded if the
 * database is empty (`npm run seed -- --scale N --reset` for more rows), and the tables are analyzed
 * before measuring, so the planner has the statistics autovacuum would keep in production. The
 * gateways follow NODE_ENV as `npm start` does; the demo users are created whatever it says.
 *
 *   npm run bench:security [-- --seconds 10 --connections 10]
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import northwind from '../demo/northwind/index.js';
import { assembleGateway } from '../src/assemble.js';
import { loadConfigOrExit } from '../src/config.js';
import { DATA_DIR, openDatabase } from '../src/db/database.js';
import { runSql } from '../src/db/raw-sql.js';
import { createLogger } from '../src/logger.js';
import { postCountingSql as post } from './post-counting-sql.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' } },
});
const config = { ...loadConfigOrExit(), logLevel: 'warn' as const };
const log = createLogger(config);
const database = await openDatabase(config, log);

async function startGateway(databaseLayer: boolean) {
  const { gateway, orm, auth, queryLog } = await assembleGateway({
    domain: northwind,
    databaseUrl: database.url,
    prepare: { seed: 'demo' },
    log,
    auth: { config: { ...config, seed: 'demo', nodeEnv: 'development' }, dataDir: DATA_DIR },
    // As `npm start` serves (NODE_ENV=production: no landing page, no schema hints in errors); only the
    // demo users (password `p`) are created whatever NODE_ENV says, since the bench logs in as them.
    settings: {
      production: config.nodeEnv === 'production',
      introspection: config.introspection,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      maxResultObjects: config.maxResultObjects,
    },
    databaseLayer,
  });
  const url = await gateway.listen(0, '127.0.0.1');
  const token = async (username: string) =>
    `Bearer ${(await auth.service.login(username, 'p', `bench-${username}`)).accessToken}`;
  return { url, token, queryLog, orm, stop: () => gateway.stop() };
}
type BenchGateway = Awaited<ReturnType<typeof startGateway>>;

const FIELDS = '{ id companyName contactName creditLimit region clientId }';
const filtered = `{ customers(limit: 1000, orderBy: [{ id: ASC }]) ${FIELDS} }`;
const explicit = `{ customers(limit: 1000, orderBy: [{ id: ASC }], where: {
  clientId: { eq: 2 }, region: { eq: "British Isles" },
  OR: [{ creditLimit: { gt: 300 } }, { contactName: { eq: "Mike" } }] }) ${FIELDS} }`;

/** u1's tenant: its orders are those of this client's customers. */
const TENANT_CLIENT = 1;
const ORDER_FIELDS = '{ id orderDate details(limit: 50) { id quantity } }';
const scopedOrders = `{ orders(limit: 200, orderBy: [{ id: ASC }]) ${ORDER_FIELDS} }`;
const explicitOrders = (customerIds: string[]) =>
  `{ orders(limit: 200, orderBy: [{ id: ASC }], where: {
  customerId: { in: ${JSON.stringify(customerIds)} } }) ${ORDER_FIELDS} }`;
const tenantCustomers = `{
  customersCount(where: { clientId: { eq: ${TENANT_CLIENT} } })
  customers(limit: 1000, orderBy: [{ id: ASC }], where: { clientId: { eq: ${TENANT_CLIENT} } }) { id } }`;

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
// The planner's statistics, as autovacuum keeps them in production: a freshly seeded database (or a
// server with autovacuum off) has none, and its plans (and JIT decisions) are not those of production.
await runSql(bothLayers.orm.em.fork(), 'analyze');
const salesBoth = await bothLayers.token('s1');
const salesApp = await appOnly.token('s1');
const superuser = await bothLayers.token('sa');
const tenant = await bothLayers.token('u1');

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

// The scope: the ids of the tenant's customers, once, so that sa can name the same orders explicitly.
const customerList = JSON.parse((await post(bothLayers, tenantCustomers, superuser)).body) as {
  data?: { customersCount: number; customers: { id: string }[] };
};
if (!customerList.data) throw new Error(`could not list client ${TENANT_CLIENT}'s customers`);
const customerIds = customerList.data.customers.map((customer) => customer.id);
if (customerList.data.customersCount !== customerIds.length)
  throw new Error(
    `client ${TENANT_CLIENT} has ${customerList.data.customersCount} customers; the explicit where lists at most 1000`,
  );
const explicitTenantOrders = explicitOrders(customerIds);
const [d, e] = [
  await post(bothLayers, scopedOrders, tenant),
  await post(bothLayers, explicitTenantOrders, superuser),
];
if (d.body !== e.body) throw new Error(`the order reads differ:\n${d.body}\n${e.body}`);
const orders = (JSON.parse(d.body) as { data?: { orders: { details: unknown[] }[] } }).data?.orders;
if (!orders?.length) throw new Error(`u1 reads no orders: ${d.body.slice(0, 300)}`);
const lines = orders.reduce((sum, order) => sum + order.details.length, 0);
console.log(
  `${orders.length} orders with ${lines} lines per request (client ${TENANT_CLIENT}: ${customerIds.length} customers)`,
);
const brief = (statements: string[]) =>
  statements.map((sql) => (sql.length > 70 ? `${sql.slice(0, 70)}…` : sql)).join(' | ');
console.log(`SQL statements per request: scoped (u1) ${d.statements.length} (${brief(d.statements)})`);
console.log(
  `                            explicit where (sa) ${e.statements.length} (${brief(e.statements)})`,
);

// Warm every path (JIT, plans, pools) before measuring.
await drive(bothLayers, filtered, salesBoth);
await drive(appOnly, filtered, salesApp);
await drive(bothLayers, explicit, superuser);
await drive(bothLayers, scopedOrders, tenant);
await drive(bothLayers, explicitTenantOrders, superuser);
const secured = await drive(bothLayers, filtered, salesBoth);
const withoutDatabaseLayer = await drive(appOnly, filtered, salesApp);
const unfiltered = await drive(bothLayers, explicit, superuser);
const scopedRead = await drive(bothLayers, scopedOrders, tenant);
const explicitRead = await drive(bothLayers, explicitTenantOrders, superuser);

console.log(line('s1, both layers (app filter + PostgreSQL RLS)', secured));
console.log(line('s1, application filter only', withoutDatabaseLayer));
console.log(line('sa with the same explicit where', unfiltered));
console.log(
  `both layers / application filter only: ${percent(secured.rps, withoutDatabaseLayer.rps)} of the throughput`,
);
console.log(`filtered (s1) / unfiltered (sa) throughput: ${percent(secured.rps, unfiltered.rps)}`);
console.log(line('u1, orders + lines through the scopes', scopedRead));
console.log(line('sa, same orders + lines by explicit where', explicitRead));
console.log(
  `scoped (u1) / explicit where (sa) throughput: ${percent(scopedRead.rps, explicitRead.rps)} (target: at least 85 %)`,
);

await bothLayers.stop();
await appOnly.stop();
await database.close();
