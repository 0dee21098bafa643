/**
 * `npm run load`: a mixed workload of several users of two tenants against one gateway process (the
 * `npm start` entry point, DATABASE_URL or the embedded database), for a fixed number of requests,
 * while an attacker sends a hostile mix beside it on connections of its own: documents whose worst
 * case is millions of objects, logins with huge usernames from rotating X-Forwarded-For addresses,
 * replays of a used refresh token and malformed bodies. Every response is checked: the users' carry
 * no error and no row of another tenant anywhere (a probe for the other tenant's customer by id must
 * come back null); the attacker's are all refusals. Prints throughput, p50/p99 latency, the error
 * counts and the gateway's resident memory sampled through the run, and exits non-zero on any error,
 * leaked row or hostile request that was not refused.
 *
 *   npm run load [-- --requests 100000 --connections 20 --hostile-connections 4]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '20' },
    'hostile-connections': { type: 'string', default: '4' },
  },
});
const TOTAL = Number(values.requests);
const CONNECTIONS = Number(values.connections);
const HOSTILE_CONNECTIONS = Number(values['hostile-connections']);

/** The gateway as its own process, so its memory is measured without the load generator's. */
function startGateway(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    // TRUST_PROXY=loopback lets the attacker's rotating X-Forwarded-For count as fresh addresses: the
    // worst case for the login throttle's memory.
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'error',
      ACCESS_TOKEN_TTL: '1h',
      NODE_ENV: 'development',
      TRUST_PROXY: 'loopback',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
      const match = output.match(/grantgate is ready at (\S+)/);
      if (!match) return;
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolve({
        url: match[1]!,
        pid: child.pid!,
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then(() => reject(new Error(`the gateway exited before it was ready:\n${output}`)));
  });
}

/** Resident set size of a process in MiB, from /proc (Linux). */
async function residentMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]) / 1024;
}

async function graphql(url: string, query: string, token?: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data!;
}

/** Every `clientId` anywhere in a response; a row of another tenant shows up here. */
function clientIds(value: unknown, found: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((item) => clientIds(item, found));
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'clientId') found.push(inner);
      else clientIds(inner, found);
    }
  }
  return found;
}

const gateway = await startGateway();
const { url } = gateway;

// Users of both tenants and several roles; each reads its own tenant only.
const USERS = [
  { id: 'u1', clientId: 1 },
  { id: 'r1', clientId: 1 },
  { id: 'aneu', clientId: 1 },
  { id: 'u2', clientId: 2 },
  { id: 's1', clientId: 2 },
  { id: 'sam', clientId: 2 },
];
const superuser = (
  (await graphql(url, 'mutation { login(username: "sa", password: "p") { accessToken } }')) as {
    login: { accessToken: string };
  }
).login.accessToken;
/** A customer of each tenant, for the cross-tenant probe by id. */
const customerOf = new Map<number, string>();
for (const clientId of [1, 2]) {
  const data = (await graphql(
    url,
    `{ customers(limit: 1, where: { clientId: { eq: ${clientId} } }) { id } }`,
    superuser,
  )) as { customers: { id: string }[] };
  customerOf.set(clientId, data.customers[0]!.id);
}

const QUERIES = (otherTenantsCustomer: string) => [
  '{ customers(limit: 50) { id companyName region creditLimit clientId } }',
  '{ customersCount categoriesCount }',
  '{ customers(limit: 5) { id clientId orders(limit: 3) { id customer { id clientId } details(limit: 2) { id product { id productName } } } } }',
  '{ categories { id categoryName clientId } }',
  `{ probe: customer(id: "${otherTenantsCustomer}") { id clientId } }`,
  '{ orders(limit: 20, orderBy: [{ id: DESC }]) { id customer { id clientId } } }',
];

let checked = 0;
let failed = 0;
/** The first few failures, to show what went wrong; all are counted. */
const failures: string[] = [];
function check(user: (typeof USERS)[number], query: string, status: number, body: string) {
  checked++;
  const problem = (() => {
    if (status !== 200) return `HTTP ${status}`;
    const parsed = JSON.parse(body) as { data?: Record<string, unknown>; errors?: unknown[] };
    if (parsed.errors) return `errors ${JSON.stringify(parsed.errors)}`;
    if ('probe' in parsed.data! && parsed.data.probe !== null) return 'read another tenant’s customer by id';
    const foreign = clientIds(parsed.data).filter((clientId) => clientId !== user.clientId);
    return foreign.length ? `rows of tenant(s) ${[...new Set(foreign)].join(', ')}` : undefined;
  })();
  if (!problem) return;
  failed++;
  if (failures.length < 20) failures.push(`${user.id} ${query.slice(0, 60)}…: ${problem}`);
}

const requests = [];
for (const user of USERS) {
  const token = (
    (await graphql(url, `mutation { login(username: "${user.id}", password: "p") { accessToken } }`)) as {
      login: { accessToken: string };
    }
  ).login.accessToken;
  for (const query of QUERIES(customerOf.get(user.clientId === 1 ? 2 : 1)!)) {
    requests.push({
      method: 'POST' as const,
      path: new URL(url).pathname,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
      onResponse: (status: number, body: string) => check(user, query, status, body),
    });
  }
}

/** The attacker: a user of tenant 2 (and anonymous callers), none of them among the users measured. */
const attacker = (
  (await graphql(
    url,
    'mutation { login(username: "ANATR", password: "p") { accessToken refreshToken } }',
  )) as {
    login: { accessToken: string; refreshToken: string };
  }
).login;
// Rotated once, so the original refresh token is spent: every replay of it must be refused.
await graphql(url, 'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }', undefined, {
  t: attacker.refreshToken,
});
const HOSTILE: { name: string; authorized: boolean; body: string }[] = [
  {
    name: 'three nested lists of 1000',
    authorized: true,
    body: JSON.stringify({
      query: '{ customers(limit: 1000) { orders(limit: 1000) { details(limit: 1000) { id } } } }',
    }),
  },
  {
    name: 'aliases of big lists through a fragment',
    authorized: true,
    body: JSON.stringify({
      query: `{ ${Array.from({ length: 10 }, (_, i) => `c${i}: customers(limit: 1000) { ...F }`).join(' ')} }
        fragment F on Customer { orders(limit: 100) { id } }`,
    }),
  },
  {
    name: 'a 200 kB username',
    authorized: false,
    body: JSON.stringify({
      query: 'mutation($u: String!) { login(username: $u, password: "p") { accessToken } }',
      variables: { u: 'a'.repeat(200_000) },
    }),
  },
  {
    name: 'a replayed refresh token',
    authorized: false,
    body: JSON.stringify({
      query: 'mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }',
      variables: { t: attacker.refreshToken },
    }),
  },
  { name: 'a malformed body', authorized: false, body: '{"query": "{ customers { id } }"' },
];
let hostileSent = 0;
let hostileLetThrough = 0;
const letThrough: string[] = [];
const hostileRequests = HOSTILE.map((attack) => ({
  method: 'POST' as const,
  path: new URL(url).pathname,
  headers: {
    'content-type': 'application/json',
    ...(attack.authorized ? { authorization: `Bearer ${attacker.accessToken}` } : {}),
  },
  body: attack.body,
  // A fresh claimed address each time: throttle state must not grow with them.
  setupRequest: (request: autocannon.Request) => ({
    ...request,
    headers: {
      ...request.headers,
      'x-forwarded-for': `10.${hostileSent % 256}.${(hostileSent >> 8) % 256}.${hostileSent % 251}`,
    },
  }),
  onResponse: (status: number, body: string) => {
    hostileSent++;
    const refused = status >= 400 || (JSON.parse(body) as { data?: unknown; errors?: unknown[] }).errors;
    const leaked = status < 400 && (JSON.parse(body) as { data?: unknown }).data;
    if (refused && !leaked) return;
    hostileLetThrough++;
    if (letThrough.length < 5) letThrough.push(`${attack.name}: HTTP ${status} ${body.slice(0, 120)}`);
  },
}));

// Warm up (JIT, query plans, pool), then measure from a settled baseline.
await autocannon({ url, connections: CONNECTIONS, amount: 2000, requests });
const memory = [{ at: 0, mib: await residentMiB(gateway.pid) }];
const sampler = setInterval(() => {
  void residentMiB(gateway.pid).then((mib) => memory.push({ at: checked, mib }));
}, 2000);
checked = 0;
failed = 0;
let hostileInstance: autocannon.Instance | undefined;
const hostile = new Promise<autocannon.Result>((resolve, reject) => {
  hostileInstance = autocannon(
    { url, connections: HOSTILE_CONNECTIONS, duration: 3600, requests: hostileRequests },
    (error: unknown, done) => (error ? reject(error as Error) : resolve(done)),
  );
});
const result = await autocannon({ url, connections: CONNECTIONS, amount: TOTAL, requests });
hostileInstance!.stop();
const hostileResult = await hostile;
clearInterval(sampler);
memory.push({ at: checked, mib: await residentMiB(gateway.pid) });
await gateway.stop();

const quarter = (q: number) => memory.find((sample) => sample.at >= (TOTAL * q) / 4) ?? memory.at(-1)!;
const mib = (sample: { mib: number }) => `${sample.mib.toFixed(0)} MiB`;
console.log(`
${result.requests.total} requests (${USERS.length} users, 2 tenants, ${QUERIES('').length} operations each), ${CONNECTIONS} connections, ${result.duration.toFixed(1)} s
throughput  ${result.requests.average.toFixed(0)} req/s
latency     p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms
errors      ${result.errors} connection errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx, ${failed} responses failing their checks (${checked} checked)
memory RSS  start ${mib(memory[0]!)}, 25% ${mib(quarter(1))}, 50% ${mib(quarter(2))}, 75% ${mib(quarter(3))}, end ${mib(memory.at(-1)!)}
hostile     ${hostileSent} requests on ${HOSTILE_CONNECTIONS} connections (${HOSTILE.map((attack) => attack.name).join(', ')}): ${hostileSent - hostileLetThrough} refused, ${hostileLetThrough} let through, ${hostileResult.errors} connection errors`);
for (const failure of [...failures, ...letThrough]) console.log(`  ${failure}`);
const clean =
  result.errors + result.timeouts + result.non2xx + failed + hostileLetThrough + hostileResult.errors === 0 &&
  checked === TOTAL;
process.exit(clean ? 0 : 1);
