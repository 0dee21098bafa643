import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dangerouslyBypassRowSecurity } from '../../security/system/row-security.js';
import {
  estimatedBytes,
  MAX_KEPT_LENGTH,
  MAX_KEPT_PARAMETERS,
  PreparingClient,
} from '../../src/db/preparing-client.js';
import { isTransactionFraming } from '../../src/db/request-transaction.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { roundTrips } from '../helpers/round-trips.js';

/**
 * PostgreSQL keeps every prepared statement's parse tree and generic plan (plan_cache_mode is
 * force_generic_plan) until it is deallocated. The pool's client keeps its statements within a budget
 * of bytes per connection and closes the least recently used beyond it; large statements are not kept
 * (src/db/preparing-client.ts). Measured in the backends themselves: pg_backend_memory_contexts.
 */

const MiB = 2 ** 20;
/** What one backend may grow by under any workload (SPEC §8). */
const BACKEND_GROWTH_BOUND = 64 * MiB;

/** Every memory context of the backend that runs it, and the statements prepared there. */
const BACKEND = `select pg_backend_pid() as pid,
  (select sum(total_bytes) from pg_backend_memory_contexts)::int8 as bytes,
  (select sum(total_bytes) from pg_backend_memory_contexts where name like 'CachedPlan%')::int8 as plans,
  (select array_agg(statement) from pg_prepared_statements) as prepared`;

interface Backend {
  pid: number;
  bytes: number;
  /** The plan cache: prepared statements (CachedPlanSource, CachedPlanQuery, CachedPlan). */
  plans: number;
  prepared: string[];
}

const backendOf = (row: { pid: number; bytes: string; plans: string; prepared: string[] | null }) => ({
  pid: row.pid,
  bytes: Number(row.bytes),
  plans: Number(row.plans),
  prepared: row.prepared ?? [],
});

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** `client`'s query as Kysely calls it: text and values, none by default. */
const queryOf =
  (client: PreparingClient) =>
  <T>(text: string, values: unknown[] = []) =>
    (client.query as unknown as (t: string, v: unknown[]) => Promise<{ rows: T[] }>)(text, values);

describe('a connection with a budget of three statements', () => {
  let db: TestDatabase;
  let client: PreparingClient;
  /** Statements of one length, so each is estimated alike; a value of 0 fails them. */
  const statement = (n: number) => `select 1 / $1::int + ${String(n).padStart(4, '0')} as n`;
  const budget = 3 * estimatedBytes(statement(0));
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
    client = new PreparingClient({ connectionString: db.url, preparedMemory: { connectionBytes: budget } });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  const query = <T>(text: string, values?: unknown[]) => queryOf(client)<T>(text, values);
  const prepared = async () =>
    (await query<{ statement: string }>('select statement from pg_prepared_statements')).rows
      .map((row) => row.statement)
      .sort();

  it('keeps the three most recently used, closing the one beyond in the same round trip', async () => {
    for (const n of [1, 2, 3]) expect((await query(statement(n), [1])).rows).toEqual([{ n: n + 1 }]);
    await query(statement(1), [1]);
    expect(await roundTrips(client, () => query(statement(4), [1]))).toBe(1);
    expect(await prepared()).toEqual([statement(1), statement(3), statement(4)]);
    // A statement closed and asked again is prepared anew.
    expect((await query(statement(2), [1])).rows).toEqual([{ n: 3 }]);
    expect(await prepared()).toEqual([statement(1), statement(2), statement(4)]);
  });

  it('closes in a failed transaction too, where a DEALLOCATE would fail', async () => {
    await query('begin');
    await expect(query(statement(2), [0])).rejects.toThrow(/division by zero/);
    // Makes room for itself by closing statement(4), the least recently used, then fails to parse.
    await expect(query(statement(5), [1])).rejects.toThrow(/current transaction is aborted/);
    await query('rollback');
    const kept = await prepared();
    expect(kept).toContain(statement(2));
    expect(kept).not.toContain(statement(4));
  });

  it('keeps a read’s frame even when its statement needs more room than there is', async () => {
    for (const n of [6, 7, 8]) await query(statement(n), [1]);
    await query('start transaction read only');
    await query('select set_config($1, $2, true)', ['grantgate.probe', 'kept']);
    for (const column of ['v', 'w']) {
      const read = `select current_setting($1, true) as ${column} -- ${column.repeat(30)}`;
      expect((await query(read, ['grantgate.probe'])).rows).toEqual([{ [column]: 'kept' }]);
    }
    await query('commit');
  });

  it('runs large statements unnamed: too many parameters, too long, or beyond the budget', async () => {
    const values = Array.from({ length: MAX_KEPT_PARAMETERS + 1 }, (_, i) => i);
    const manyParameters = `select array_length(array[${values.map((_, i) => `$${i + 1}::int`).join(', ')}], 1) as n`;
    expect((await query(manyParameters, values)).rows).toEqual([{ n: values.length }]);
    const long = `select $1::int as n -- ${'z'.repeat(MAX_KEPT_LENGTH)}`;
    expect((await query(long, [1])).rows).toEqual([{ n: 1 }]);
    const beyondBudget = `select $1::int as n -- ${'w'.repeat(3 * statement(0).length + 100)}`;
    expect(estimatedBytes(beyondBudget)).toBeGreaterThan(budget);
    expect((await query(beyondBudget, [2])).rows).toEqual([{ n: 2 }]);
    const kept = await prepared();
    for (const text of [manyParameters, long, beyondBudget]) expect(kept).not.toContain(text);
  });
});

/**
 * The red team's workload (issue 26), as a signed-in tenant: 60 five-level reads, each with another
 * set of scalar fields, then 20 requests of 15 such root fields under aliases. Before the bound (200
 * statements per connection), it grew one backend by tens of megabytes per statement kept.
 */
const FIELDS = {
  customer: [
    'companyName',
    'contactName',
    'contactTitle',
    'address',
    'city',
    'region',
    'postalCode',
    'country',
    'phone',
    'balance',
    'creditLimit',
  ],
  order: [
    'orderDate',
    'shippedDate',
    'freight',
    'shipName',
    'shipCity',
    'shipRegion',
    'shipCountry',
    'amountTotal',
  ],
  detail: ['unitPrice', 'quantity', 'discount', 'amount'],
  product: ['productName', 'unitPrice', 'unitsInStock', 'discontinued'],
  category: ['categoryName', 'description', 'clientId'],
};

/** `id` and the fields whose bits are set in `bits`. */
const pick = (fields: string[], bits: number) =>
  ['id', ...fields.filter((_, i) => (bits >> i) & 1)].join(' ');

/** The n-th read: its customer fields alone differ from every other's (n < 2048). */
const fiveLevels = (n: number) =>
  `customers(limit: 2) { ${pick(FIELDS.customer, n)} orders(limit: 2) { ${pick(FIELDS.order, n * 37)} ` +
  `details(limit: 2) { ${pick(FIELDS.detail, n * 5)} product { ${pick(FIELDS.product, n * 3)} ` +
  `category { ${pick(FIELDS.category, n * 7)} } } } } }`;

const WORKLOAD = [
  ...Array.from({ length: 60 }, (_, n) => `{ ${fiveLevels(n)} }`),
  ...Array.from(
    { length: 20 },
    (_, r) =>
      `{ ${Array.from({ length: 15 }, (_, k) => `a${k}: ${fiveLevels(60 + r * 15 + k)}`).join(' ')} }`,
  ),
];
const WORKLOAD_STATEMENTS = 60 + 20 * 15;

/**
 * Other shapes, each as every kind of user: up and down relations, counts, conditions, the shared
 * entities. Per character of SQL, what their plans cost varies fourfold.
 */
const SHAPES = [
  '{ shippers(limit: 3) { id companyName phone } }',
  '{ customersCount }',
  '{ employees(limit: 3) { id lastName worksForDepartment { id departmentName } reportsTo { id reportsTo { id } } } }',
  '{ departments(limit: 3) { id children(limit: 3) { id children(limit: 3) { id employees(limit: 3) { id orders(limit: 2) { id } } } } } }',
  '{ employees(limit: 3) { id orders(limit: 2) { id details(limit: 3) { id product { id supplier { id products(limit: 2) { id category { id } } } } } } } }',
  '{ suppliers(limit: 3) { id products(limit: 2) { id category { id products(limit: 2) { id supplier { id } } } } } }',
  '{ orders(limit: 50) { id customer { companyName } details(limit: 10) { quantity product { productName category { categoryName } } } } }',
  '{ customers(limit: 20, orderBy: [{ companyName: ASC }]) { id orders(limit: 3, orderBy: [{ orderDate: DESC }], where: { freight: { gt: 10 } }) { id freight details(limit: 2) { quantity } } } }',
  '{ customers(limit: 10) { id ordersCount orders(limit: 10) { id detailsCount } } }',
  '{ orderDetails(limit: 5) { order { customer { orders(limit: 2) { employee { worksForDepartment { id } } } } } } }',
  '{ orderDetails(limit: 5) { order { customer { orders(limit: 2) { details(limit: 2) { order { customer { id } } } } } } } }',
  '{ customers(limit: 10, where: { OR: [{ city: { eq: "a" } }, { AND: [{ region: { eq: "c" } }, { country: { in: ["x", "y"] } }] }] }) { id } }',
];
const USERS = ['u1', 's1', 'u2', 'sa'];

/** A statement as the pool's client received it, with the request settings it ran under. */
interface Sent {
  text: string;
  values: unknown[];
  settings: { text: string; values: unknown[] };
}

/** What a statement's plan cost its backend. */
interface Cost {
  text: string;
  bytes: number;
}

describe('the prepared statements of the gateway’s reads, on one pooled connection', () => {
  let t: TestGateway;
  let callerOf: (user: string) => Caller;
  /** The statements of the red team's workload, as the gateway sent them. */
  const workload: Sent[] = [];
  beforeAll(async () => {
    t = await startTestGateway({ pool: { size: 1 } });
    callerOf = await signIn(t, USERS);
  });
  afterAll(() => t?.close());

  const backend = async (): Promise<Backend> => {
    const em = dangerouslyBypassRowSecurity(t.orm.em.fork());
    const [row] = await em.getConnection().execute<Parameters<typeof backendOf>[0][]>(BACKEND);
    return backendOf(row!);
  };

  /** Runs `query` as `user`; the statements it sent. */
  const run = async (query: string, user = 'u1', variables: Record<string, unknown> = {}) => {
    const sent: Sent[] = [];
    let settings: Sent['settings'] | undefined;
    const stop = t.queryLog.listen((sql, context) => {
      const values = (context.params ?? []) as unknown[];
      const text = sql;
      if (isTransactionFraming(sql))
        settings = sql.startsWith('select set_config(') ? { text, values } : settings;
      else sent.push({ text, values, settings: settings! });
    });
    try {
      const result = await t.execute(parse(query) as never, variables, callerOf(user));
      expect(result.errors).toBeUndefined();
    } finally {
      stop();
    }
    return sent;
  };

  /**
   * `statements` on a connection of their own that keeps every one, each as a read of its own as the
   * gateway runs it: the backend before and after, and what each statement's plan cost.
   */
  async function unbounded(statements: Sent[]) {
    const client = new PreparingClient({
      connectionString: t.db.url,
      preparedMemory: { connectionBytes: Infinity, totalBytes: Infinity },
    });
    await client.connect();
    const query = queryOf(client);
    const measure = async () => backendOf((await query<Parameters<typeof backendOf>[0]>(BACKEND)).rows[0]!);
    const read = async ({ text, values, settings }: Sent) => {
      await query('start transaction read only');
      await query(settings.text, settings.values);
      await query(text, values);
      await query('commit');
    };
    try {
      // Each setting's statement is prepared once; they are no statement's own cost.
      for (const statement of statements) {
        await query('start transaction read only');
        await query(statement.settings.text, statement.settings.values);
        await query('commit');
      }
      const before = await measure();
      const costs: Cost[] = [];
      let plans = before.plans;
      for (const statement of statements) {
        await read(statement);
        const now = await measure();
        costs.push({ text: statement.text, bytes: now.plans - plans });
        plans = now.plans;
      }
      return { before, after: await measure(), costs };
    } finally {
      await client.end();
    }
  }

  const overEstimated = (costs: Cost[]) => costs.filter(({ text, bytes }) => bytes > estimatedBytes(text));

  it('the red team’s workload grows the backend by less than 64 MB: what is beyond the budget is closed', async ({
    annotate,
  }) => {
    await run('{ shippers(limit: 1) { id } }');
    const before = await backend();
    for (const query of WORKLOAD) workload.push(...(await run(query)));
    const after = await backend();

    expect(after.pid).toBe(before.pid);
    expect(new Set(workload.map((statement) => statement.text)).size).toBe(WORKLOAD_STATEMENTS);
    await annotate(
      `bounded: backend ${mb(before.bytes)} → ${mb(after.bytes)}, plans ${mb(after.plans)}, ` +
        `${after.prepared.length} statements prepared of ${WORKLOAD_STATEMENTS}`,
    );
    expect(after.bytes - before.bytes).toBeLessThan(BACKEND_GROWTH_BOUND);
    // Most were closed; the most recent ones are kept.
    expect(after.prepared.length).toBeLessThan(WORKLOAD_STATEMENTS / 4);
    expect(after.prepared).toContain(workload.at(-1)!.text);
  });

  it('without the bound, the same statements grow a backend beyond 64 MB', async ({ annotate }) => {
    expect(workload).toHaveLength(WORKLOAD_STATEMENTS);
    const { before, after, costs } = await unbounded(workload);
    await annotate(
      `unbounded: backend ${mb(before.bytes)} → ${mb(after.bytes)}, plans ${mb(after.plans)}, ` +
        `${after.prepared.length} statements prepared`,
    );
    expect(after.bytes - before.bytes).toBeGreaterThan(BACKEND_GROWTH_BOUND);
    expect(overEstimated(costs)).toEqual([]);
  });

  it('each statement costs its backend less than its estimate, whoever asks', async ({ annotate }) => {
    const statements = new Map<string, Sent>();
    for (const user of USERS)
      for (const shape of SHAPES)
        for (const sent of await run(shape, user))
          // Without parameters (the superuser's count), it is not prepared.
          if (sent.values.length > 0) statements.set(sent.text, sent);
    const { costs } = await unbounded([...statements.values()]);
    const perCharacter = costs.map(({ text, bytes }) => bytes / text.length);
    await annotate(
      `plans cost ${Math.round(Math.min(...perCharacter))}–${Math.round(Math.max(...perCharacter))} bytes ` +
        `per character of SQL, at most ${mb(Math.max(...costs.map(({ bytes }) => bytes)))}`,
    );
    expect(overEstimated(costs)).toEqual([]);
  });

  it('keeps a common statement, and does not keep one with a long `in` list', async () => {
    const ids = Array.from({ length: 300 }, (_, i) => `C${i}`);
    const [long] = await run(
      'query ($ids: [String!]) { customers(limit: 5, where: { id: { in: $ids } }) { id } }',
      'u1',
      { ids },
    );
    expect(long!.values.length).toBeGreaterThan(MAX_KEPT_PARAMETERS);
    await run('{ customers(limit: 3) { id city } }');
    const [common] = await run('{ customers(limit: 4) { id city } }');
    const { prepared } = await backend();
    expect(prepared).toContain(common!.text);
    expect(prepared).not.toContain(long!.text);
  });
});
