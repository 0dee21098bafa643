import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type GatewayProcess,
  loginAs,
  postGraphQL,
  startGatewayProcess,
} from '../helpers/gateway-process.js';
import { startPgBouncer } from '../helpers/pgbouncer.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * SPEC §12, connection poolers: the gateway behind Debian's PgBouncer 1.18 in transaction mode, with a
 * stock configuration and fewer server connections than the gateway's pool, answers exactly what a
 * gateway connected to PostgreSQL answers. Each has a database of its own, copied from one template,
 * and every request of the workload goes to both; their answers are compared one by one.
 */
const POOL = 3;
const env = {
  JWT_SECRET: 'one secret for both gateways of this test',
  DB_POOL_SIZE: '10',
  LOG_LEVEL: 'info',
};

let pooledDb: TestDatabase;
let directDb: TestDatabase;
let bouncer: Awaited<ReturnType<typeof startPgBouncer>>;
let pooled: GatewayProcess;
let direct: GatewayProcess;

beforeAll(async () => {
  [pooledDb, directDb] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  bouncer = await startPgBouncer(pooledDb.url, POOL);
  pooled = startGatewayProcess({
    ...env,
    DATABASE_URL: bouncer.url,
    REQUEST_TIMEOUT: '3s',
    DB_STATEMENT_TIMEOUT: '40s',
  });
  direct = startGatewayProcess({ ...env, DATABASE_URL: directDb.url, REQUEST_TIMEOUT: '3s' });
  await Promise.all([pooled.url, direct.url]);
}, 120_000);

afterAll(async () => {
  await Promise.all([pooled?.stop(), direct?.stop()]);
  await bouncer?.stop();
  await Promise.all([pooledDb?.drop(), directDb?.drop()]);
});

/** The same request to both gateways: their answers, ids the database generated made comparable. */
async function both(query: string, tokens: [string, string]) {
  const [a, b] = await Promise.all([
    postGraphQL(await pooled.url, query, { token: tokens[0] }),
    postGraphQL(await direct.url, query, { token: tokens[1] }),
  ]);
  const generated = (answer: unknown) => JSON.stringify(answer).replace(/"id":"\d{4,}"/g, '"id":"<new>"');
  return { pooled: generated(a), direct: generated(b), raw: a };
}

const READS = [
  '{ customers(limit: 5, orderBy: [{ id: ASC }]) { id companyName orders(limit: 2, orderBy: [{ id: ASC }]) { id freight details { quantity product { productName } } } } }',
  '{ ordersCount ordersAggregate { count sum { freight } max { orderDate } } }',
  '{ ordersGroupBy(by: [shipCountry], orderBy: [{ key: { shipCountry: ASC } }], limit: 5) { key { shipCountry } count } }',
  '{ customer(id: "ANATR") { id companyName } customer2: customer(id: "ALFKI") { id } }',
  '{ ordersConnection(first: 3, orderBy: [{ id: ASC }]) { totalCount edges { node { id } } pageInfo { hasNextPage } } }',
  '{ shippers(where: { companyName: { like: "Speedy%" } }, orderBy: [{ companyName: ASC }]) { companyName phone } }',
];

describe('behind PgBouncer in transaction mode', () => {
  it('is detected from the startup parameter PgBouncer refuses', () => {
    expect(pooled.output()).toMatch(/running as with DATABASE_POOLER=transaction/);
    expect(direct.output()).not.toMatch(/DATABASE_POOLER/);
  });

  it('answers a mixed workload of reads and writes as the direct path does, without an error', async () => {
    const users = ['u1', 'u2', 's1', 'sa'] as const;
    const tokens = new Map<string, [string, string]>();
    for (const user of users) {
      const [a, b] = await Promise.all([loginAs(await pooled.url, user), loginAs(await direct.url, user)]);
      tokens.set(user, [a.accessToken, b.accessToken]);
    }
    const differences: string[] = [];
    const errors: string[] = [];
    let requests = 0;
    const ask = async (query: string, user: string) => {
      const answers = await both(query, tokens.get(user)!);
      requests++;
      if (answers.pooled !== answers.direct)
        differences.push(`${user} ${query}\n${answers.pooled}\n${answers.direct}`);
      if (answers.raw.status !== 200 || (answers.raw.errors && !query.includes('Forbidden')))
        errors.push(`${user} ${query}: ${JSON.stringify(answers.raw)}`);
      return answers.raw;
    };
    // 16 clients at once, against 3 server connections behind the pooler and 10 in the gateway's pool.
    await Promise.all(
      Array.from({ length: 16 }, async (_, worker) => {
        for (let step = 0; step < 40; step++) {
          const user = users[(worker + step) % users.length]!;
          await ask(READS[step % READS.length]!, user);
          if (step % 4 !== 0) continue;
          const created = await ask(
            `mutation { createShipper(input: { companyName: "Pooled ${worker}-${step}" }) { companyName phone } }`,
            'sa',
          );
          expect(created.data).toBeTruthy();
          // A write refused by the policy in both: the same error, nothing written.
          await ask(
            `mutation Forbidden { createShipper(input: { companyName: "Refused ${worker}-${step}" }) { id } }`,
            'u1',
          );
          await ask(
            `mutation { updateCustomer(id: "${worker % 2 ? 'ALFKI' : 'AVONB'}", input: { contactName: "Pooled ${worker}" }) { id } }`,
            'u1',
          );
        }
      }),
    );
    expect(errors).toEqual([]);
    expect(differences).toEqual([]);
    expect(requests).toBeGreaterThan(900);

    // The databases afterwards: the same shippers, the refused ones in neither.
    const names = async (db: TestDatabase) =>
      (
        await db.sql.query(
          "select company_name from shipper where company_name ~ '^(Pooled|Refused) ' order by 1",
        )
      ).rows;
    const written = await names(pooledDb);
    expect(written).toEqual(await names(directDb));
    expect(written).toHaveLength(16 * 10);
    // The one refusal PgBouncer logged is of the probe that detected it.
    const log = await bouncer.log();
    expect(log.match(/closing because: unsupported startup parameter/g)).toHaveLength(1);
    expect(log).not.toMatch(/prepared statement/i);
  }, 180_000);

  it('cancels a statement at the request deadline through the pooler, which frees its server connection', async () => {
    const { accessToken } = await loginAs(await pooled.url, 'sa');
    const locker = new pg.Client({ connectionString: pooledDb.url });
    await locker.connect();
    const waiting = async () =>
      (
        await locker.query(
          "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()",
        )
      ).rows[0].n as number;
    try {
      await locker.query('begin; lock table shipper in access exclusive mode');
      const answer = await postGraphQL(await pooled.url, '{ shippers(limit: 1) { id } }', {
        token: accessToken,
      });
      expect(answer.errors?.map((error) => error.message)).toEqual([
        'The request took too long and was stopped.',
      ]);
      // Cancelled in PostgreSQL while the lock is still held (its statement_timeout is 40 s).
      await vi.waitFor(async () => expect(await waiting()).toBe(0), { timeout: 2000, interval: 100 });
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    // Every server connection is usable again.
    const url = await pooled.url;
    const after = await Promise.all(
      Array.from({ length: POOL * 2 }, () => postGraphQL(url, '{ shippersCount }', { token: accessToken })),
    );
    for (const answer of after) expect(answer.errors).toBeUndefined();
  }, 60_000);
});
