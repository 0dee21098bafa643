/**
 * `npm run bench`: what row security costs. The same customer rows are read (a) by `s1`, whose grants
 * and global filters select them, and (b) by `sa`, who is not filtered, with the equivalent explicit
 * `where`. Both run through HTTP against the same gateway for the same time; the script prints
 * requests/s and p50/p99 latency of each and their ratio. DATABASE_URL or the embedded database;
 * the demo data is seeded if the database is empty (`npm run seed -- --scale N --reset` for more rows).
 *
 *   npm run bench [-- --seconds 10 --connections 10]
 */
import { parseArgs } from 'node:util';
import { MikroORM } from '@mikro-orm/postgresql';
import autocannon from 'autocannon';
import { createAuth } from '../src/auth/create-auth.js';
import { loadConfigOrExit } from '../src/config.js';
import { DATA_DIR, openDatabase } from '../src/db/database.js';
import { createOrmOptions } from '../src/db/orm-config.js';
import { QueryLog } from '../src/db/query-log.js';
import { prepareRowSecurity } from '../src/db/row-security-setup.js';
import { seedOnStart } from '../src/db/seed/seed-database.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/logger.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '10' } },
});
const config = { ...loadConfigOrExit(), logLevel: 'warn' as const };
const log = createLogger(config);
const database = await openDatabase(config, log);
const orm = await MikroORM.init(createOrmOptions({ clientUrl: database.url, queryLog: new QueryLog(log) }));
await orm.migrator.up();
await seedOnStart(orm, 'demo', log);
const auth = await createAuth({
  config: { ...config, seed: 'demo', nodeEnv: 'development' },
  databaseUrl: database.url,
  dataDir: DATA_DIR,
  log,
});
const gateway = await createGateway({
  orm,
  log,
  auth,
  requestContext: await prepareRowSecurity({ orm, log }),
});
const url = await gateway.listen(0, '127.0.0.1');

const FIELDS = '{ id companyName contactName creditLimit region clientId }';
const filtered = `{ customers(limit: 1000, orderBy: [{ id: ASC }]) ${FIELDS} }`;
const explicit = `{ customers(limit: 1000, orderBy: [{ id: ASC }], where: {
  clientId: { eq: 2 }, region: { eq: "British Isles" },
  OR: [{ creditLimit: { gt: 300 } }, { contactName: { eq: "Mike" } }] }) ${FIELDS} }`;

async function token(username: string) {
  const payload = await auth.service.login(username, 'p', `bench-${username}`);
  return `Bearer ${payload.accessToken}`;
}
async function post(query: string, authorization: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query }),
  });
  return JSON.stringify(await response.json());
}

const asSales = await token('s1');
const asSuperuser = await token('sa');
const [a, b] = [await post(filtered, asSales), await post(explicit, asSuperuser)];
if (a !== b) throw new Error(`the two reads differ:\n${a}\n${b}`);
const rows = (JSON.parse(a) as { data: { customers: unknown[] } }).data.customers.length;

async function drive(query: string, authorization: string) {
  const result = await autocannon({
    url,
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

console.log(`${rows} customer rows per request, ${values.connections} connections, ${values.seconds} s each`);
// Warm both paths (JIT, plans, pools) before measuring.
await drive(filtered, asSales);
await drive(explicit, asSuperuser);
const secured = await drive(filtered, asSales);
const unfiltered = await drive(explicit, asSuperuser);
const line = (name: string, r: typeof secured) =>
  `${name.padEnd(32)} ${r.rps.toFixed(0).padStart(6)} req/s   p50 ${r.p50} ms   p99 ${r.p99} ms`;
console.log(line('s1 (grants + global filters)', secured));
console.log(line('sa with the same explicit where', unfiltered));
console.log(`filtered / unfiltered throughput: ${((secured.rps / unfiltered.rps) * 100).toFixed(1)} %`);

await gateway.stop();
await database.close();
