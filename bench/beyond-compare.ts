/**
 * The shapes of `npm run bench` beyond compare.sh's five, side by side with PostGraphile 5 on the
 * databases compare.sh leaves behind (`grantgate_compare`, `peer_nw`: the same Northwind reference
 * data, users and rules), measured the way compare.sh measures: both servers in production mode in
 * processes of their own, the same answers checked first, then interleaved autocannon rounds, medians.
 *
 *   X1  u1  20 customers, each its 3 latest orders, 2 lines each (per-parent pages and sorts)
 *   X2  u1  orders counted through the tenant scope
 *   X3  u1  one aggregate of the orders: count, sum, average, min and max of freight
 *   X4  u1  the orders grouped by ship country: count and sum of freight per country, by country
 *   X5  u1  the customers with an order over 100 of freight (a relation filter), by id
 *   X6  u1  a connection page: the 50 orders after the first 50 by id descending, with totalCount
 *
 * X1 sorts by key and has no per-parent filter, unlike `npm run bench`'s: PostGraphile's Amber preset
 * sorts by indexed columns only and filters by equality (`condition`) only, and no equality on an
 * order's own columns selects the same rows in both databases. X3–X6 are measured against PostGraphile
 * with the plugins of PEER_PLUGINS (connections are its own), in a peer directory of this bench's
 * (`--peer-dir`), made from compare.sh's copy of the harness, which stays as it is. A plugin that cannot
 * be installed leaves its shapes measured on the gateway alone, and the output says so. X3's min and max
 * are of freight, not of the order date: pg-aggregates takes min and max of numbers (and intervals)
 * only, and compare.sh writes no order dates into the gateway's database. X6 sorts by id for the same
 * reason (and the Amber preset's). pg-aggregates does not sort groups: X4's are compared by key.
 *
 *   ../shared/peer-postgraphile/compare.sh    # once: installs the peer, loads both databases
 *   npm run bench:beyond-compare [-- --duration 4 --rounds 3 --connections 20 --shapes X3,X4 --answers]
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { loginAs, startGatewayProcess } from '../test/helpers/gateway-process.js';
import { AFTER, afterFirstPage } from './connection-page.js';
import { pickShapes } from './shape-line.js';
import { answerOf, driveGraphql, median } from './drive-graphql.js';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '20' },
    shapes: { type: 'string' },
    // Print each shape's answer as compared (normalised), to see what "the same" was.
    answers: { type: 'boolean', default: false },
    // compare.sh's copy of the harness, with its packages installed, and this bench's own peer made from it.
    'peer-source': { type: 'string', default: '/tmp/grantgate-peer-postgraphile' },
    'peer-dir': { type: 'string', default: '/tmp/grantgate-peer-beyond' },
    database: { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/grantgate_compare' },
  },
});

/**
 * The PostGraphile 5 plugins for what core PostGraphile does not serve, at the versions the npm registry
 * has for the harness's postgraphile 5.1.5 (graphile-build 5.1.1, graphile-build-pg 5.1.4 in its lock):
 * pg-aggregates' 0.2 line is PostGraphile 5's (0.1.x is for PostGraphile 4; 0.2.0-rc.2 asks for
 * graphile-build ^5.0.0-rc.5 and graphile-build-pg ^5.0.0-rc.7), connection-filter's 3.x and 4.x lines
 * are (4.0.1 asks for postgraphile ^5.1.4; 2.x is for PostGraphile 4). Relation filters are
 * connection-filter's own (`connectionFilterRelations`); no separate v5 plugin for them was found.
 */
const PEER_PLUGINS = {
  aggregates: { name: '@graphile/pg-aggregates', version: '0.2.0-rc.2' },
  filters: { name: 'postgraphile-plugin-connection-filter', version: '4.0.1' },
} as const;
type PluginUse = keyof typeof PEER_PLUGINS;

const HARNESS = ['server.mjs', 'package.json', 'package-lock.json'];
const PEER_CONFIG = new URL('./peer-beyond.graphile.config.mjs', import.meta.url);

/**
 * This bench's peer directory: compare.sh's harness and installed packages, its preset kept as
 * graphile.base.config.mjs under ours (PEER_CONFIG), and PEER_PLUGINS installed with npm. Made again
 * when any of those changed. Returns the plugins installed at their version.
 */
function preparePeer(source: string, dir: string): Set<PluginUse> {
  if (!existsSync(join(source, 'node_modules')) || !existsSync(join(source, 'server.mjs'))) {
    console.error(`no PostGraphile peer in ${source}: run ../shared/peer-postgraphile/compare.sh first`);
    process.exit(1);
  }
  const stamp = createHash('sha1')
    .update(
      [...HARNESS, 'graphile.config.mjs'].map((file) => readFileSync(join(source, file), 'utf8')).join('\0'),
    )
    .update(readFileSync(PEER_CONFIG))
    .update(JSON.stringify(PEER_PLUGINS))
    .digest('hex');
  const marker = join(dir, '.beyond-peer');
  if (!existsSync(marker) || readFileSync(marker, 'utf8') !== stamp) {
    // Only a directory this bench made (or an empty one) is replaced.
    if (existsSync(dir) && readdirSync(dir).length && !existsSync(marker)) {
      console.error(`${dir} is not a peer directory of this bench's: name another with --peer-dir`);
      process.exit(1);
    }
    console.log(
      `== making the peer in ${dir}: compare.sh's harness and ${Object.values(PEER_PLUGINS)
        .map((p) => `${p.name}@${p.version}`)
        .join(', ')}`,
    );
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(marker, 'incomplete');
    cpSync(join(source, 'node_modules'), join(dir, 'node_modules'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    for (const file of HARNESS) copyFileSync(join(source, file), join(dir, file));
    copyFileSync(join(source, 'graphile.config.mjs'), join(dir, 'graphile.base.config.mjs'));
    copyFileSync(PEER_CONFIG, join(dir, 'graphile.config.mjs'));
    // shared/ may be read-only, and so the copies: npm rewrites package.json and its lock.
    for (const file of readdirSync(dir)) if (file !== 'node_modules') chmodSync(join(dir, file), 0o644);
    const install = spawnSync(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--save-exact',
        ...Object.values(PEER_PLUGINS).map((p) => `${p.name}@${p.version}`),
      ],
      { cwd: dir, encoding: 'utf8' },
    );
    if (install.status !== 0) {
      console.log(
        `npm could not install the plugins (their shapes are measured on the gateway alone):\n${install.stderr.slice(-1500)}`,
      );
    } else {
      writeFileSync(marker, stamp);
    }
  }
  const installed = new Set<PluginUse>();
  for (const [use, plugin] of Object.entries(PEER_PLUGINS) as [
    PluginUse,
    (typeof PEER_PLUGINS)[PluginUse],
  ][]) {
    const manifest = join(dir, 'node_modules', plugin.name, 'package.json');
    const version = existsSync(manifest)
      ? (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version
      : undefined;
    if (version === plugin.version) installed.add(use);
  }
  return installed;
}

interface Shape {
  id: string;
  user: string;
  gateway: string;
  /** PostGraphile's query, and the plugin it needs, if any. */
  peer: string;
  plugin?: PluginUse;
  /** The peer's answer in the gateway's terms, where `normal` alone does not make it so. */
  peerAs?: (data: unknown) => unknown;
}

const SHAPES: Shape[] = [
  {
    id: 'X1',
    user: 'u1',
    gateway:
      '{ customers(limit: 20, orderBy: [{ id: ASC }]) { id companyName orders(limit: 3, orderBy: [{ id: DESC }]) { id freight details(limit: 2) { quantity } } } }',
    peer: '{ customers(first: 20, orderBy: ID_ASC) { nodes { id companyName orders(first: 3, orderBy: ID_DESC) { nodes { id freight orderDetails(first: 2) { nodes { quantity } } } } } } }',
  },
  { id: 'X2', user: 'u1', gateway: '{ ordersCount }', peer: '{ orders { totalCount } }' },
  {
    id: 'X3',
    user: 'u1',
    gateway: '{ ordersAggregate { count sum { freight } avg { freight } min { freight } max { freight } } }',
    peer: '{ orders { totalCount aggregates { sum { freight } average { freight } min { freight } max { freight } } } }',
    plugin: 'aggregates',
    peerAs: (data) => {
      const { totalCount, aggregates } = (
        data as { orders: { totalCount: number; aggregates: Record<string, unknown> } }
      ).orders;
      const { sum, average, min, max } = aggregates;
      return { ordersAggregate: { count: totalCount, sum, avg: average, min, max } };
    },
  },
  {
    id: 'X4',
    user: 'u1',
    gateway:
      '{ ordersGroupBy(by: [shipCountry], orderBy: [{ key: { shipCountry: ASC } }]) { key { shipCountry } count sum { freight } } }',
    // A group's count: its distinct ids (the key), since pg-aggregates has no count per group.
    peer: '{ orders { groupedAggregates(groupBy: [SHIP_COUNTRY]) { keys distinctCount { id } sum { freight } } } }',
    plugin: 'aggregates',
    peerAs: (data) => {
      const groups = (
        data as {
          orders: {
            groupedAggregates: { keys: (string | null)[]; distinctCount: { id: string }; sum: unknown }[];
          };
        }
      ).orders.groupedAggregates.map(({ keys, distinctCount, sum }) => ({
        key: { shipCountry: keys[0] ?? null },
        count: Number(distinctCount.id),
        sum,
      }));
      // By key as PostgreSQL sorts ascending (nulls last); the keys are ASCII, so code units sort alike.
      const order = (key: string | null) => (key === null ? '\uffff' : key);
      groups.sort((a, b) => (order(a.key.shipCountry) < order(b.key.shipCountry) ? -1 : 1));
      return { ordersGroupBy: groups };
    },
  },
  {
    id: 'X5',
    user: 'u1',
    gateway:
      '{ customers(limit: 100, where: { orders: { some: { freight: { gt: 100 } } } }, orderBy: [{ id: ASC }]) { id companyName } }',
    peer: '{ customers(first: 100, filter: { orders: { some: { freight: { greaterThan: 100 } } } }, orderBy: ID_ASC) { nodes { id companyName } } }',
    plugin: 'filters',
  },
  {
    id: 'X6',
    user: 'u1',
    // hasPreviousPage is left out: after a cursor Relay lets a server answer false (PostGraphile does).
    gateway: `{ ordersConnection(first: 50${AFTER}, orderBy: [{ id: DESC }]) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id freight shipCountry } } } }`,
    peer: `{ orders(first: 50${AFTER}, orderBy: ID_DESC) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id freight shipCountry } } } }`,
    peerAs: (data) => ({ ordersConnection: (data as { orders: unknown }).orders }),
  },
];

const shapes = pickShapes(SHAPES, values.shapes);

const peerDir = values['peer-dir'];
const plugins = preparePeer(values['peer-source'], peerDir);
for (const [use, plugin] of Object.entries(PEER_PLUGINS) as [PluginUse, (typeof PEER_PLUGINS)[PluginUse]][]) {
  console.log(
    plugins.has(use)
      ? `PostGraphile with ${plugin.name}@${plugin.version} (${use})`
      : `PostGraphile without ${use}: ${plugin.name}@${plugin.version} is not installed in ${peerDir}`,
  );
}

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

async function post(url: string, query: string, authorization: string) {
  const text = await answerOf(url, query, authorization);
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

/**
 * An answer without PostGraphile's connection wrappers, with every key and cursor zeroed (each side
 * made its own) and every number to 12 significant digits (a float sum's last digits follow the order
 * PostgreSQL adds the rows in).
 */
const normal = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(normal);
  if (typeof value === 'number') return Number(value.toPrecision(12));
  if (!value || typeof value !== 'object') return value;
  if ('nodes' in value && Object.keys(value).length === 1) return normal(value.nodes);
  if ('totalCount' in value && Object.keys(value).length === 1) return value.totalCount;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key === 'orderDetails' ? 'details' : key === 'ordersCount' ? 'orders' : key,
      ['id', 'cursor', 'endCursor'].includes(key) ? 0 : normal(field),
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
for (const shape of shapes) {
  const ours = await gatewayToken(shape.user);
  const gatewayQuery = await afterFirstPage(
    shape.gateway,
    async (query) => (await post(gatewayUrl, query, ours)).text,
  );
  const a = await post(gatewayUrl, gatewayQuery, ours);
  const alone = shape.plugin && !plugins.has(shape.plugin);
  if (a.json.errors || !a.json.data) {
    different++;
    console.log(`${shape.id}: the gateway failed: ${a.text.slice(0, 300)}`);
    continue;
  }
  let peerQuery = '';
  let theirs = '';
  if (!alone) {
    theirs = await peerToken(shape.user);
    peerQuery = await afterFirstPage(shape.peer, async (query) => (await post(peerUrl, query, theirs)).text);
    const b = await post(peerUrl, peerQuery, theirs);
    const peerData = b.json.data && shape.peerAs ? shape.peerAs(b.json.data) : b.json.data;
    const compared = JSON.stringify(normal(a.json.data));
    if (values.answers) console.log(`${shape.id} answer: ${compared.slice(0, 400)}`);
    if (b.json.errors || compared !== JSON.stringify(normal(peerData))) {
      different++;
      console.log(
        `${shape.id}: DIFFERENT answers\n  gateway: ${a.text.slice(0, 300)}\n  PostGraphile: ${b.text.slice(0, 300)}`,
      );
      continue;
    }
  }
  const gateway = [];
  const peer = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    if (!alone) peer.push(await load(peerUrl, peerQuery, theirs));
    gateway.push(await load(gatewayUrl, gatewayQuery, ours));
  }
  const g = median(gateway.map((run) => run.rps));
  const bad = gateway.reduce((sum, run) => sum + run.bad, 0);
  const oursLine = `${g.toFixed(0).padStart(13)}  ${String(median(gateway.map((run) => run.p50))).padStart(6)}`;
  const note = bad ? `  (${bad} bad gateway responses)` : '';
  if (alone) {
    const plugin = PEER_PLUGINS[shape.plugin!];
    console.log(
      `${shape.id.padEnd(5)}  ${oursLine} | gateway alone: no ${plugin.name}@${plugin.version}${note}`,
    );
    continue;
  }
  const p = median(peer.map((run) => run.rps));
  console.log(
    `${shape.id.padEnd(5)}  ${oursLine} | ${p.toFixed(0).padStart(18)}  ${String(median(peer.map((run) => run.p50))).padStart(6)} | ${(g / p).toFixed(2)}${note}`,
  );
}
process.exit(different ? 1 : 0);
