import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../auth-providers/sql/user-store.js';
import { CustomerOrderTreeDocument } from '../../demo/northwind/__generated__/graphql.js';
import { capturedLog } from '../helpers/captured-log.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const { log, lines: logLines } = capturedLog('debug');

let t: TestGateway;
let caller: (userId: string) => Caller;
beforeAll(async () => {
  // 250 requests at once queue for the 10 connections far longer than the 5 s a production request
  // may wait: this file is about isolation, not the pool's limits (test/db/pool-limits.test.ts).
  t = await startTestGateway({ log, pool: { acquireTimeoutMs: 120_000 } });
  // The demo users span clients 1 and 2; a third tenant's user joins the concurrent mix.
  const users = new UserStore(t.db.url);
  await users.addUser({ id: 'c3', roles: ['renter'], attributes: { clientId: 3 }, password: 'p' });
  await users.close();
  caller = await signIn(t, ['aneu', 'u1', 'r1', 'ALFKI', 's1', 'p1', 'u2', 'ANATR', 'c3']);
});
afterAll(() => t?.close());

/** Everything a user can list, as one string per entity: the fingerprint of what they see. */
const EVERYTHING = parse(`{
  categories(limit: 100, orderBy: [{ id: ASC }]) { id categoryName description clientId products(limit: 100) { id } }
  customers(limit: 200, orderBy: [{ id: ASC }]) { id companyName contactName region creditLimit clientId orders(limit: 100) { id } }
  departments(limit: 1000, orderBy: [{ id: ASC }]) { id departmentName securityLevel }
  products(limit: 1000, orderBy: [{ id: ASC }]) { id productName discontinued category { id } }
  orders(limit: 1000, orderBy: [{ id: ASC }]) { id customer { id companyName } }
}`);

async function everything(userId: string) {
  const result = await t.execute(EVERYTHING as never, {}, caller(userId));
  expect(result.errors).toBeUndefined();
  return JSON.stringify(result.data);
}

describe('tenant isolation', () => {
  // The tenant's rows are those with a clientId (customers, categories); orders and products carry
  // none, so SPEC §5 gives them no tenant filter and they are not perturbed here.
  it('client 1’s answers do not change when client 2’s and 3’s rows change, even to colliding values', async () => {
    const clientOne = ['aneu', 'u1', 'r1', 'ALFKI'];
    const before = new Map<string, string>();
    for (const id of clientOne) before.set(id, await everything(id));

    await t.db.sql.query(`
      update customer set region = 'British Isles', contact_name = 'Mike', credit_limit = 5000,
        company_name = 'Alpenfeld Kitchens' where client_id in (2, 3);
      update category set category_name = 'Beverages', description = 'Beverages of client 1' where client_id in (2, 3);
      insert into customer (id, company_name, region, credit_limit, client_id)
        values ('ALFK2', 'Alpenfeld Kitchens', 'Western Europe', 1000, 2), ('ALFK3', 'Alpenfeld Kitchens', 'British Isles', 1, 3);
      insert into category (category_name, description, client_id) values ('Condiments', 'twin', 2), ('Dairy', 'twin', 3);`);

    for (const id of clientOne) expect(await everything(id), id).toBe(before.get(id));
    // The changes are real: client 2 sees them.
    expect(await everything('u2')).toContain('ALFK2');
  });
});

describe('concurrent requests of different users', () => {
  it('250 requests in flight at once from seven users of three tenants and six roles each get only their own rows', async () => {
    const users = ['aneu', 's1', 'ALFKI', 'p1', 'u2', 'ANATR', 'c3'];
    const expected = new Map<string, string>();
    for (const id of users) expected.set(id, await everything(id));
    const requests = Array.from({ length: 250 }, (_, i) => users[i % users.length]!);
    const answers = await Promise.all(requests.map(async (id) => [id, await everything(id)] as const));
    for (const [id, answer] of answers) expect(answer, id).toBe(expected.get(id));
    expect(new Set(expected.values()).size).toBe(users.length);
  });
});

describe('cost and visibility of the security layer', () => {
  it('keeps one statement per root field for a filtered user, each level filtered', async () => {
    const result = await t.executeCountingSql(CustomerOrderTreeDocument, { limit: 25 }, caller('s1'));
    expect(result.errors).toBeUndefined();
    expect(result.statements).toHaveLength(1);
    // The tenant condition of customer (root, and the orders' scope), category (the products' scope)…
    expect(result.statements[0]!.match(/"client_id" = (\$\d+|2)/g)!.length).toBeGreaterThanOrEqual(3);
  });

  it('logs, at debug level, which grants and global filters applied for which user and entity, with the SQL', async () => {
    logLines.length = 0;
    await t.execute(parse('{ customers(limit: 1) { id } }') as never, {}, caller('s1'));
    const applied = logLines.find(
      (line) => line.msg === 'row security applied' && line.entity === 'Customer',
    );
    expect(applied).toMatchObject({
      user: 's1',
      applied: {
        grants: [
          'Sales people see customers with a credit limit over 300 ...',
          '... and customers whose contact is Mike.',
        ],
        globalFilters: ['clientId', 'region'],
      },
      requestId: expect.any(String),
    });
    expect(
      logLines.find((line) => line.msg === 'sql' && line.requestId === applied!.requestId),
    ).toBeDefined();
  });
});
