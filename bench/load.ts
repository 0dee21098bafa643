/**
 * `npm run load`: a mixed workload of several users of two tenants against one gateway process (the
 * `npm start` entry point, DATABASE_URL or the embedded database), for a fixed number of requests,
 * while an attacker sends a hostile mix beside it on connections of its own: documents whose worst
 * case is millions of objects, logins with huge usernames from rotating X-Forwarded-For addresses,
 * replays of a used refresh token, malformed bodies, variables nested 4000 levels or of 100,000
 * values, documents past the token limit, a key another tenant holds, a shared row rewritten — and
 * the red team's shapes for PostgreSQL's memory (60 distinct five-level reads, 15 aliased roots),
 * which are served. Every response is checked: the users' carry
 * no error and no row of another tenant anywhere (a probe for the other tenant's customer by id must
 * come back null); the attacker's are all refusals. Prints throughput, p50/p99 latency, the error
 * counts, the gateway's resident memory and the largest PostgreSQL backend's private memory sampled
 * through the run (the server on this machine), and exits non-zero on any error,
 * leaked row or hostile request that was not refused.
 *
 *   npm run load [-- --requests 100000 --connections 20 --hostile-connections 4]
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { gatewayEntry } from '../test/helpers/project-cli.js';

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
  const child = spawn(process.execPath, gatewayEntry(), {
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

/** The database the gateway serves: DATABASE_URL's, or the embedded server's (src/db/database.ts). */
const DATABASE_NAME = process.env.DATABASE_URL
  ? new URL(process.env.DATABASE_URL).pathname.slice(1)
  : 'grantgate';

/**
 * The largest private memory (RssAnon: plans, prepared statements, caches; not the shared buffers
 * every backend maps) of a PostgreSQL backend serving that database, in MiB, from /proc: the
 * server must run on this machine.
 */
async function largestBackendMiB(): Promise<number> {
  let largest = 0;
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    // `postgres: user database client state`, after the cluster's name if it has one (`15/main: `).
    if (/^postgres: (?:\S+: )?\S+ (\S+) /.exec(cmdline)?.[1] !== DATABASE_NAME) continue;
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const anon = /RssAnon:\s+(\d+) kB/.exec(status);
    if (anon) largest = Math.max(largest, Number(anon[1]) / 1024);
  }
  return largest;
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
/**
 * The red team's shapes for PostgreSQL's memory (issue 26): reads of five levels, each with another
 * set of fields, so that every one is a statement of its own; and documents of 15 aliased roots.
 * They are served (a reader may ask them), within the bounds that keep the backends' memory level.
 */
const CUSTOMER_FIELDS = ['companyName', 'contactName', 'city', 'region', 'country', 'phone'];
const shape = (n: number) =>
  `{ customers(limit: 3) { id ${CUSTOMER_FIELDS.filter((_, bit) => (n + 1) & (1 << bit)).join(' ')}
     orders(limit: 3) { id ${n % 2 ? 'freight' : 'orderDate'} details(limit: 3) { id ${n % 3 ? 'quantity' : 'unitPrice'}
       product { id ${n % 5 ? 'productName' : 'unitsInStock'} category { id ${n % 7 ? 'categoryName' : 'description'} } } } } } }`;
const aliasedRoots = (n: number) =>
  `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: customers(limit: 2, offset: ${n + i}) { id ${CUSTOMER_FIELDS[i % 6]} }`).join(' ')} }`;
/** `{"AND":[{"AND":[ … ]}]}`, `levels` deep, as JSON text. */
const nestedWhere = (levels: number) =>
  `${'{"AND":['.repeat(levels)}{"companyName":{"eq":"x"}}${']}'.repeat(levels)}`;

const HOSTILE: { name: string; authorized: boolean; body: string; served?: true }[] = [
  ...Array.from({ length: 60 }, (_, n) => ({
    name: n === 0 ? '60 distinct five-level shapes' : '',
    authorized: true,
    body: JSON.stringify({ query: shape(n) }),
    served: true as const,
  })),
  ...Array.from({ length: 20 }, (_, n) => ({
    name: n === 0 ? '20 documents of 15 aliased roots' : '',
    authorized: true,
    body: JSON.stringify({ query: aliasedRoots(n) }),
    served: true as const,
  })),
  {
    name: 'variables nested 4000 levels',
    authorized: false,
    body: `{"query":"query($w: CustomerWhere) { customers(where: $w, limit: 1) { id } }","variables":{"w":${nestedWhere(4000)}}}`,
  },
  {
    name: 'an OR of 100 × 1000 values',
    authorized: true,
    body: JSON.stringify({
      query: 'query($w: CustomerWhere) { customers(where: $w, limit: 1) { id } }',
      variables: {
        w: {
          OR: Array.from({ length: 100 }, (_, i) => ({ companyName: { in: Array(1000).fill(`c${i}`) } })),
        },
      },
    }),
  },
  {
    name: '60,000 selections',
    authorized: true,
    body: JSON.stringify({ query: `{ ${'me { id } '.repeat(60_000)}}` }),
  },
  {
    name: '3,000 operations',
    authorized: true,
    body: JSON.stringify({
      query: Array.from({ length: 3000 }, (_, i) => `query q${i} { me { id } }`).join(' '),
      operationName: 'q1',
    }),
  },
  {
    name: "another tenant's customer key",
    authorized: true,
    body: JSON.stringify({
      query: `mutation { createCustomer(input: { id: "${customerOf.get(1)}", companyName: "Probe" }) { id } }`,
    }),
  },
  {
    name: 'a shared row rewritten',
    authorized: true,
    body: JSON.stringify({
      query: 'mutation { updateShipper(id: 1, input: { companyName: "Mine" }) { id } }',
    }),
  },
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
let servedShapes = 0;
let shapeFailures = 0;
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
    if (attack.served) {
      // Asked of tenant 2's attacker: served, without an error and without a row of tenant 1.
      const parsed =
        status === 200 ? (JSON.parse(body) as { data?: unknown; errors?: unknown[] }) : undefined;
      if (parsed && !parsed.errors && !clientIds(parsed.data).some((clientId) => clientId !== 2)) {
        servedShapes++;
        return;
      }
      shapeFailures++;
      if (letThrough.length < 5) letThrough.push(`a served shape: HTTP ${status} ${body.slice(0, 120)}`);
      return;
    }
    const refused = status >= 400 || (JSON.parse(body) as { data?: unknown; errors?: unknown[] }).errors;
    const leaked = status < 400 && (JSON.parse(body) as { data?: unknown }).data;
    if (refused && !leaked) return;
    hostileLetThrough++;
    if (letThrough.length < 5) letThrough.push(`${attack.name}: HTTP ${status} ${body.slice(0, 120)}`);
  },
}));

// Warm up (JIT, query plans, pool), then measure from a settled baseline.
await autocannon({ url, connections: CONNECTIONS, amount: 2000, requests });
const memory = [{ at: 0, mib: await residentMiB(gateway.pid), backend: await largestBackendMiB() }];
const sampler = setInterval(() => {
  void Promise.all([residentMiB(gateway.pid), largestBackendMiB()]).then(([mib, backend]) =>
    memory.push({ at: checked, mib, backend }),
  );
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
memory.push({ at: checked, mib: await residentMiB(gateway.pid), backend: await largestBackendMiB() });
await gateway.stop();

const quarter = (q: number) => memory.find((sample) => sample.at >= (TOTAL * q) / 4) ?? memory.at(-1)!;
const mib = (sample: { mib: number }) => `${sample.mib.toFixed(0)} MiB`;
const backend = (sample: { backend: number }) => `${sample.backend.toFixed(0)} MiB`;
console.log(`
${result.requests.total} requests (${USERS.length} users, 2 tenants, ${QUERIES('').length} operations each), ${CONNECTIONS} connections, ${result.duration.toFixed(1)} s
throughput  ${result.requests.average.toFixed(0)} req/s
latency     p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms
errors      ${result.errors} connection errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx, ${failed} responses failing their checks (${checked} checked)
memory RSS  start ${mib(memory[0]!)}, 25% ${mib(quarter(1))}, 50% ${mib(quarter(2))}, 75% ${mib(quarter(3))}, end ${mib(memory.at(-1)!)}
PostgreSQL  largest backend's private memory (RssAnon): start ${backend(memory[0]!)}, 25% ${backend(quarter(1))}, 50% ${backend(quarter(2))}, 75% ${backend(quarter(3))}, end ${backend(memory.at(-1)!)}
hostile     ${hostileSent} requests on ${HOSTILE_CONNECTIONS} connections (${HOSTILE.flatMap((attack) => (attack.name ? [attack.name] : [])).join(', ')}): ${hostileSent - hostileLetThrough - servedShapes - shapeFailures} refused, ${hostileLetThrough} let through; ${servedShapes} red-team shapes served, ${shapeFailures} failed; ${hostileResult.errors} connection errors`);
for (const failure of [...failures, ...letThrough]) console.log(`  ${failure}`);
const clean =
  result.errors +
    result.timeouts +
    result.non2xx +
    failed +
    hostileLetThrough +
    shapeFailures +
    hostileResult.errors ===
    0 && checked === TOTAL;
process.exit(clean ? 0 : 1);
