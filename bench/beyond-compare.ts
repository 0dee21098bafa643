/**
 * The shapes of `npm run bench` beyond compare.sh's five, side by side with PostGraphile 5 on the
 * databases compare.sh leaves behind (`grantgate_compare`, `peer_nw`: the same Northwind reference
 * data, users and rules), measured the way compare.sh measures: both servers in production mode in
 * processes of their own, the same answers checked first, then interleaved autocannon rounds, medians.
 *
 *   X1  u1  20 customers, each its 3 latest orders, 2 lines each (per-parent pages and sorts)
 *   X2  u1  orders counted through the tenant scope
 *
 * X1 sorts by key and has no per-parent filter, unlike `npm run bench`'s: PostGraphile's Amber preset
 * sorts by indexed columns only and filters by equality (`condition`) only, and no equality on an
 * order's own columns selects the same rows in both databases.
 *
 *   ../shared/peer-postgraphile/compare.sh    # once: installs the peer, loads both databases
 *   npm run bench:beyond-compare [-- --duration 4 --rounds 3 --connections 20]
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { loginAs, startGatewayProcess } from '../test/helpers/gateway-process.js';
import { driveGraphql, median } from './drive-graphql.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' },
    'peer-dir': { type: 'string', default: '/tmp/grantgate-peer-postgraphile' },
    database: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/grantgate_compare' },
  },
});
const peerDir = values['peer-dir'];
if (!existsSync(join(peerDir, 'node_modules')) || !existsSync(join(peerDir, 'server.mjs'))) {
  console.error(`no PostGraphile peer in ${peerDir}: run ../shared/peer-postgraphile/compare.sh first`);
  process.exit(1);
}

const SHAPES = [
  {
    id: 'X1',
    user: 'u1',
    gateway:
      '{ customers(limit: 20, orderBy: [{ id: ASC }]) { id companyName orders(limit: 3, orderBy: [{ id: DESC }]) { id freight details(limit: 2) { quantity } } } }',
    peer: '{ customers(first: 20, orderBy: ID_ASC) { nodes { id companyName orders(first: 3, orderBy: ID_DESC) { nodes { id freight orderDetails(first: 2) { nodes { quantity } } } } } } }',
  },
  { id: 'X2', user: 'u1', gateway: '{ ordersCount }', peer: '{ orders { totalCount } }' },
];

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** PostGraphile on `port`, as compare.sh starts it, in a process group of its own (stopped on exit). */
async function startPeer(port: number) {
  const peer = spawn('node', ['server.mjs'], {
    cwd: peerDir,
    env: {
      ...process.env,
      PATH: `${peerDir}/node_modules/.bin:${process.env.PATH}`,
      // The peer's own database and role (compare.sh's), whatever DATABASE_URL says for the gateway.
      DATABASE_URL: 'postgres://peer_user@127.0.0.1:5432/peer_nw',
      NODE_ENV: 'production',
      GRAPHILE_ENV: 'production',
      PORT: String(port),
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.on('exit', () => {
    try {
      process.kill(-peer.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  });
  let output = '';
  peer.stderr.on('data', (chunk) => (output += chunk));
  await new Promise<void>((ready, failed) => {
    peer.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('peer listening')) ready();
    });
    peer.once('exit', () => failed(new Error(`PostGraphile did not start:\n${output.slice(-2000)}`)));
  });
  return `http://127.0.0.1:${port}/graphql`;
}

const peerUrl = await startPeer(await freePort());
// As compare.sh starts it (`npm start`: the served domain, production mode), in a process of its own.
const gatewayProcess = startGatewayProcess({
  DATABASE_URL: values.database,
  DOMAIN: 'domain',
  SEED: 'none',
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  JWT_SECRET: 'beyond-compare-secret-0123456789abcdef0123456789',
});
process.on('exit', () => void gatewayProcess.stop());
const gatewayUrl = await gatewayProcess.url;

async function post(url: string, query: string, authorization: string, variables = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { text, json: JSON.parse(text) as { data?: unknown; errors?: unknown } };
}

const gatewayToken = async (username: string) =>
  `Bearer ${(await loginAs(gatewayUrl, username)).accessToken}`;
// The peer's tokens as compare.sh signs them: the fixture's user with its roles and attributes.
const fixture = JSON.parse(
  readFileSync(new URL('../../shared/fixtures/northwind-reference.json', import.meta.url), 'utf8'),
) as {
  users: { id: string; roles: string[]; client_id: number | null; region: string | null }[];
};
const peerSecret = new TextEncoder().encode(
  process.env.PEER_JWT_SECRET ?? 'peer-postgraphile-bench-secret-0123456789',
);
const peerToken = async (username: string) => {
  const user = fixture.users.find((candidate) => candidate.id === username)!;
  const token = await new SignJWT({ roles: user.roles, client_id: user.client_id, region: user.region })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(user.id)
    .setIssuer('peer-bench')
    .setAudience('peer-postgraphile')
    .setExpirationTime('2h')
    .sign(peerSecret);
  return `Bearer ${token}`;
};

/** An answer without PostGraphile's connection wrappers and with every key zeroed (each side made its own). */
const normal = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(normal);
  if (!value || typeof value !== 'object') return value;
  if ('nodes' in value && Object.keys(value).length === 1) return normal(value.nodes);
  if ('totalCount' in value && Object.keys(value).length === 1) return value.totalCount;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key === 'orderDetails' ? 'details' : key === 'ordersCount' ? 'orders' : key,
      key === 'id' ? 0 : normal(field),
    ]),
  );
};

const load = async (url: string, query: string, authorization: string) =>
  driveGraphql({
    url,
    query,
    authorization,
    expected: (await post(url, query, authorization)).text,
    connections: Number(values.connections),
    seconds: Number(values.duration),
  });

let different = 0;
console.log(
  `${values.connections} connections, ${values.rounds} interleaved rounds of 2 s warm-up + ${values.duration} s`,
);
console.log('shape  gateway req/s  p50 ms | PostGraphile req/s  p50 ms | ratio');
for (const shape of SHAPES) {
  const ours = await gatewayToken(shape.user);
  const theirs = await peerToken(shape.user);
  const [a, b] = [await post(gatewayUrl, shape.gateway, ours), await post(peerUrl, shape.peer, theirs)];
  if (
    a.json.errors ||
    b.json.errors ||
    JSON.stringify(normal(a.json.data)) !== JSON.stringify(normal(b.json.data))
  ) {
    different++;
    console.log(
      `${shape.id}: DIFFERENT answers\n  gateway: ${a.text.slice(0, 300)}\n  PostGraphile: ${b.text.slice(0, 300)}`,
    );
    continue;
  }
  const gateway = [];
  const peer = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    peer.push(await load(peerUrl, shape.peer, theirs));
    gateway.push(await load(gatewayUrl, shape.gateway, ours));
  }
  const [g, p] = [median(gateway.map((run) => run.rps)), median(peer.map((run) => run.rps))];
  const bad = gateway.reduce((sum, run) => sum + run.bad, 0);
  console.log(
    `${shape.id.padEnd(5)}  ${g.toFixed(0).padStart(13)}  ${String(median(gateway.map((run) => run.p50))).padStart(6)} | ${p.toFixed(0).padStart(18)}  ${String(median(peer.map((run) => run.p50))).padStart(6)} | ${(g / p).toFixed(2)}${bad ? `  (${bad} bad gateway responses)` : ''}`,
  );
}
process.exit(different ? 1 : 0);
