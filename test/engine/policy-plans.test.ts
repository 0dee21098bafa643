import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { APP_ROLE, prepareDatabaseSecurity } from '../../security/database/database-role.js';
import { policyStatements } from '../../security/system/database-policies.js';
import { compileSql, sql } from '../../security/system/sql-fragment.js';
import { RequestSecurity } from '../../security/system/request-security.js';
import { REQUEST_WORK_MEM, requestSettings } from '../../src/db/request-transaction.js';
import { type FixtureDatabase, openFixtureDatabase, READERS } from './fixtures.js';

/**
 * The policies in the forms PostgreSQL plans well, asserted on the plan's shape (EXPLAIN ANALYZE),
 * never on its time, in both layers (the database's policies alone, the gateway's filter alone), under
 * the request's settings: the request's settings are read once per statement (InitPlans), a
 * count through a scope hashes the visible parents once rather than looking each row's parent up,
 * and a page looks each row's parent up by its key rather than hashing the tenant's parents. The
 * engine's fixture, grown to 10 000 accounts of 10 tenants, nine in ten of them tenant 1's (skewed, as
 * tenants are), and 50 000 invoices, so that the planner has choices to make: it takes tenant 1's
 * accounts for a tenth of them (its setting's value is not the planner's to see), and would hash
 * them for a page at twice the request's work_mem (hash_mem_multiplier).
 */
let f: FixtureDatabase;
const tenant = READERS.find((reader) => reader.label === 'tenant 1')!.user;

beforeAll(async () => {
  f = await openFixtureDatabase();
  for (const statement of policyStatements(f.model.databasePolicies)) await f.db.sql.query(statement);
  await prepareDatabaseSecurity({ ownerOrm: f.orm });
  // The fixture's rows carry their ids: the sequences start after them.
  for (const table of ['account', 'invoice'])
    await f.db.sql.query(
      `select setval(pg_get_serial_sequence('${table}', 'id'), (select max(id) from ${table}))`,
    );
  // Skewed, as tenants are: tenant 1 holds nine accounts in ten, each of the others a few hundred.
  await f.db.sql.query(`insert into account (client_id, name)
    select case when i % 10 = 0 then i % 9 + 2 else 1 end, 'account ' || i from generate_series(1, 10000) i`);
  await f.db.sql.query(`insert into invoice (account_id, total, archived)
    select a.id, i, i % 7 = 0 from generate_series(1, 5) i, account a where a.name like 'account %'`);
  await f.db.sql.query('analyze');
}, 60_000);
afterAll(() => f?.close());

interface PlanNode {
  'Node Type': string;
  'Parent Relationship'?: string;
  'Subplan Name'?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Loops': number;
  Filter?: string;
  'Index Cond'?: string;
  'One-Time Filter'?: string;
  Plans?: PlanNode[];
}

/** Every node of a plan with the InitPlan it is part of, if any. */
function* nodes(node: PlanNode, initPlan?: PlanNode): Generator<{ node: PlanNode; initPlan?: PlanNode }> {
  const within = node['Parent Relationship'] === 'InitPlan' ? node : initPlan;
  yield { node, initPlan: within };
  for (const child of node.Plans ?? []) yield* nodes(child, within);
}

/** EXPLAIN (ANALYZE, VERBOSE) of `query` in a transaction with `settings` set local, as `role` if given. */
async function explain(
  query: { sql: string; params: readonly unknown[] },
  settings: [string, string][],
  role?: string,
): Promise<PlanNode> {
  const client: pg.Client = f.db.sql;
  await client.query('begin');
  try {
    for (const [name, value] of settings)
      await client.query('select set_config($1, $2, true)', [name, value]);
    if (role) await client.query(`set local role ${role}`);
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `explain (analyze, verbose, format json) ${query.sql}`,
      [...query.params],
    );
    return rows[0]!['QUERY PLAN'][0].Plan;
  } finally {
    await client.query('rollback');
  }
}

/** The nodes that read `table`. */
const reading = (plan: PlanNode, table: string) =>
  [...nodes(plan)].map(({ node }) => node).filter((node) => node['Relation Name'] === table);

const countInvoices = { sql: 'select count(*) from invoice', params: [] };
const pageOfInvoices = { sql: 'select id from invoice order by id limit 50', params: [] };

/** The gateway's own filter on invoices for `user`, on the alias `i`, without the database's policies. */
function gatewayRead(user: AuthUser, select: string, tail = '') {
  const rows = f.model.rowSql(user, 'Invoice', 'i')!;
  return compileSql(sql`select ${sql.raw(select)} from invoice as i where ${rows} ${sql.raw(tail)}`);
}

/**
 * The settings a request of `tenant` runs with (src/db/request-transaction.ts: its identity, jit,
 * plan_cache_mode, hash_mem_multiplier), with `workMem` for work_mem (a count has the server's own).
 */
const requestWith = (workMem: string): [string, string][] =>
  requestSettings(new RequestSecurity(f.model, tenant), {}).map(([name, value]) => [
    name,
    name === 'work_mem' ? workMem : value,
  ]);

const layers = [
  {
    layer: 'the database’s policies',
    run: (query: { sql: string; params: readonly unknown[] }, workMem: string) =>
      explain(query, requestWith(workMem), APP_ROLE),
    count: () => countInvoices,
    page: () => pageOfInvoices,
  },
  {
    layer: 'the gateway’s filter',
    run: (query: { sql: string; params: readonly unknown[] }, workMem: string) =>
      explain(query, requestWith(workMem)),
    count: () => gatewayRead(tenant, 'count(*)'),
    page: () => gatewayRead(tenant, 'i.id', 'order by i.id limit 50'),
  },
];

describe.each(layers)('$layer', ({ run, count, page }) => {
  it('reads the request’s settings once per statement: only InitPlans call current_setting, once each', async () => {
    for (const query of [count, page]) {
      const plan = await run(query(), REQUEST_WORK_MEM);
      for (const { node, initPlan } of nodes(plan)) {
        const conditions = [node.Filter, node['Index Cond'], node['One-Time Filter']].join(' ');
        if (conditions.includes('current_setting')) expect(initPlan, node['Node Type']).toBeDefined();
        // Once, or not at all where an `or` was decided before it.
        if (node['Parent Relationship'] === 'InitPlan') expect(node['Actual Loops']).toBeLessThanOrEqual(1);
      }
    }
  });

  it('counts through the scope with the visible accounts hashed once, not a look-up per invoice', async () => {
    // The server's own work_mem, as CompiledRead.scan gives a count through a scope.
    const plan = await run(count(), '4MB');
    const accounts = reading(plan, 'account');
    expect(accounts.length).toBeGreaterThan(0);
    for (const node of accounts) expect(node['Actual Loops']).toBe(1);
    expect([...nodes(plan)].some(({ node }) => node.Filter?.includes('hashed SubPlan'))).toBe(true);
  });

  it('reads a page of invoices with each one’s account looked up by its key, not the tenant’s accounts hashed', async () => {
    const plan = await run(page(), REQUEST_WORK_MEM);
    const accounts = reading(plan, 'account');
    expect(accounts.length).toBeGreaterThan(0);
    for (const node of accounts) {
      expect(node['Node Type']).toMatch(/^Index (Only )?Scan$/);
      expect(node['Index Name']).toBe('account_pkey');
      // One look-up per invoice read: the page, and the archived ones the filter skipped on the way.
      expect(node['Actual Loops']).toBeLessThanOrEqual(60);
    }
  });
});
