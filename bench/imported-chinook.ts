/**
 * `npm run bench:chinook`: reads through the relations `npm run db:import` derives, on a public
 * database nobody here wrote (Chinook, test/fixtures/real-schemas/). It loads Chinook into a database
 * of its own (`grantgate_bench_chinook` on DATABASE_URL's server, or the embedded one), imports it as
 * a team would into a folder of its own, declares a representative's rule, writes the policies, and
 * serves the imported domain in production mode with both row-security layers on. Per shape it prints
 * the rows answered, the SQL statements per request (data statements, then the transaction's
 * framing), requests/s and p50 latency.
 *
 *   npm run bench:chinook [-- --seconds 8 --connections 20]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { assembleGateway } from '../src/assemble.js';
import { loadConfigOrExit } from '../src/config.js';
import { DATA_DIR, openDatabase } from '../src/db/database.js';
import { isTransactionFraming } from '../src/db/request-transaction.js';
import { runSql } from '../src/db/raw-sql.js';
import { loadDomain } from '../src/domain.js';
import { createLogger } from '../src/logger.js';
import { runProjectCli } from '../test/helpers/project-cli.js';
import { chinookRepresentativeRule, loadRealSchema } from '../test/helpers/real-schemas.js';
import { driveGraphql } from './drive-graphql.js';
import { postCountingSql as post } from './post-counting-sql.js';
import { SHAPE_HEADER, shapeLine } from './shape-line.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '20' },
  },
});

const ROOT = resolve(import.meta.dirname, '..');
const DATABASE = 'grantgate_bench_chinook';

/** Reads through imported relations: inverse to-many fields, two levels deep, and a join table. */
const SHAPES = [
  {
    id: 'C1',
    user: 'root',
    what: '20 artists, their albums, their tracks (inverse relations, two levels)',
    query:
      '{ artists(limit: 20) { name albums(limit: 10) { title tracks(limit: 20) { name milliseconds } } } }',
  },
  {
    id: 'C2',
    user: 'jane',
    what: "a representative's customers, their invoices, their lines (rule + scopes)",
    query:
      '{ employees(limit: 10) { lastName customers(limit: 25) { lastName invoices(limit: 10) { total invoiceLines(limit: 20) { unitPrice quantity } } } } }',
  },
  {
    id: 'C3',
    user: 'root',
    what: '10 playlists and 20 of their tracks each (through the join table)',
    query: '{ playlists(limit: 10) { name tracks(limit: 20) { name } } }',
  },
];

const config = { ...loadConfigOrExit(), logLevel: 'warn' as const };
const log = createLogger(config);
const server = await openDatabase(config, log);

/** A fresh database of Chinook, as its upstream script creates it. */
async function chinookDatabase(): Promise<string> {
  const admin = new URL(server.url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`drop database if exists "${DATABASE}" with (force)`);
  await client.query(`create database "${DATABASE}"`);
  await client.end();
  const url = new URL(server.url);
  url.pathname = `/${DATABASE}`;
  const chinook = new pg.Client({ connectionString: url.toString() });
  await chinook.connect();
  await loadRealSchema(chinook, 'chinook');
  await chinook.end();
  return url.toString();
}

/** A CLI of the project on Chinook, as a team runs it; stops the bench on failure. */
async function cli(databaseUrl: string, domain: string, script: string, ...args: string[]) {
  const run = await runProjectCli(script, args, { databaseUrl, env: { DOMAIN: domain } });
  if (run.code !== 0) throw new Error(`${script} ${args.join(' ')}: ${run.stderr || run.stdout}`);
}

const databaseUrl = await chinookDatabase();
const folder = relative(ROOT, await mkdtemp(join(ROOT, 'bench/.chinook-')));
try {
  await cli(databaseUrl, 'domain', 'src/tools/cli/import-schema.ts', '--out', folder);
  await writeFile(
    join(ROOT, folder, 'declare-security.ts'),
    chinookRepresentativeRule(relative(join(ROOT, folder), join(ROOT, 'security/system/policy.js'))),
  );
  await cli(databaseUrl, folder, 'src/tools/cli/create-security-migration.ts');
  await cli(
    databaseUrl,
    folder,
    'src/tools/cli/auth-users.ts',
    'user',
    'add',
    'root',
    '--password',
    'p',
    '--roles',
    'sa',
  );
  await cli(
    databaseUrl,
    folder,
    'src/tools/cli/auth-users.ts',
    ...['user', 'add', 'jane', '--password', 'p', '--roles', 'rep', '--attr', 'supportRep=3'],
  );
  const { gateway, orm, auth, queryLog } = await assembleGateway({
    domain: await loadDomain(folder),
    databaseUrl,
    log,
    auth: { config, dataDir: DATA_DIR },
    settings: {
      production: true,
      introspection: false,
      requestTimeoutMs: config.requestTimeoutSeconds * 1000,
      maxResultObjects: config.maxResultObjects,
    },
  });
  await runSql(orm.em.fork(), 'analyze');
  const url = await gateway.listen(0, '127.0.0.1');
  console.log(
    `Chinook, imported; production mode, both row-security layers on, ${values.connections} connections, ${values.seconds} s per shape after 2 s warm-up`,
  );
  console.log(SHAPE_HEADER);
  for (const shape of SHAPES) {
    const authorization = `Bearer ${(await auth.service.login(shape.user, 'p', `bench-${shape.user}`)).accessToken}`;
    const first = await post({ url, queryLog }, shape.query, authorization);
    const answer = JSON.parse(first.body) as { data?: unknown; errors?: unknown };
    if (answer.errors || !answer.data) throw new Error(`${shape.id} failed: ${first.body.slice(0, 300)}`);
    const data = first.statements.filter((sql) => !isTransactionFraming(sql)).length;
    const { rps, p50, bad } = await driveGraphql({
      url,
      query: shape.query,
      authorization,
      expected: first.body,
      connections: Number(values.connections),
      seconds: Number(values.seconds),
    });
    console.log(
      shapeLine(shape, {
        data: answer.data,
        statements: data,
        framing: first.statements.length - data,
        rps,
        p50,
        bad,
      }),
    );
  }
  await gateway.stop();
} finally {
  await rm(join(ROOT, folder), { recursive: true, force: true });
  await server.close();
}
