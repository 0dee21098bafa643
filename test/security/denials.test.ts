import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../auth-providers/sql/user-store.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { capturedLog } from '../helpers/captured-log.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * SPEC §10: every denial names the rule that decided it — in development in `extensions.rule`, in
 * production only in the log ('denied by rule'), under the request id of the response.
 */
interface Denial {
  name: string;
  user: string;
  /** The operation, given a row id the user can see (when it needs one). */
  operation: (t: TestGateway, caller: Caller) => Promise<string>;
  code: string;
  message: RegExp;
  rule: string;
}

type Rows = Record<string, Record<string, unknown>[]>;
const rows = async (t: TestGateway, caller: Caller, query: string) =>
  (await t.execute(parse(query) as never, {}, caller)).data as Rows;

const DENIALS: Denial[] = [
  {
    name: 'FORBIDDEN: a verb the role permission withholds',
    user: 'r1',
    operation: async (t, caller) => {
      const { categories } = await rows(t, caller, '{ categories(limit: 1) { id } }');
      return `mutation { deleteCategory(id: ${JSON.stringify(categories![0]!.id)}) }`;
    },
    code: 'FORBIDDEN',
    message: /does not have delete access on entity: Category/,
    rule: 'Renters, managers, sales people and the public may read, insert and update, but not delete.',
  },
  {
    name: 'FORBIDDEN: a verb no rule of the roles gives',
    user: 'dev1',
    operation: async () => '{ categoriesCount }',
    code: 'FORBIDDEN',
    message: /does not have read access on entity: Category/,
    rule: 'No role permission or grant gives dev read on Category.',
  },
  {
    name: 'FORBIDDEN: a field the role may not read',
    user: 's1',
    operation: async () => '{ employees(limit: 1) { id salary } }',
    code: 'FORBIDDEN',
    message: /does not have read access on field: Employee.salary/,
    rule: 'Salaries are read and written by managers only.',
  },
  {
    name: 'write check: a global-filter attribute set to another value than the user’s own',
    user: 's1',
    operation: async () =>
      'mutation { createCustomer(input: { id: "ZZRGN", companyName: "Elsewhere", region: "North America" }) { id } }',
    code: 'BAD_USER_INPUT',
    message: /Customer.region must be your own/,
    rule: 'Sales people and customers see only their own region.',
  },
  {
    name: 'not visible after the change: the gateway’s check (a grant no longer admits the row)',
    user: 's1',
    operation: async (t, caller) => {
      const { customers } = await rows(t, caller, '{ customers(limit: 50) { id contactName creditLimit } }');
      const row = customers!.find((c) => c.contactName !== 'Mike' && (c.creditLimit as number) > 300)!;
      return `mutation { updateCustomer(id: ${JSON.stringify(row.id)}, input: { creditLimit: 10 }) { id } }`;
    },
    code: 'BAD_USER_INPUT',
    message: /This Customer would not be visible to you after the change; nothing was written/,
    rule: 'Sales people see customers with a credit limit over 300 ... or ... and customers whose contact is Mike.',
  },
  {
    name: 'not visible after the change: the database’s WITH CHECK (a global filter)',
    user: 'u1',
    operation: async (t, caller) => {
      const { products } = await rows(t, caller, '{ products(limit: 1) { id } }');
      return `mutation { updateProduct(id: ${JSON.stringify(products![0]!.id)}, input: { discontinued: true }) { id } }`;
    },
    code: 'BAD_USER_INPUT',
    message: /This Product would not be visible to you after the change; nothing was written/,
    rule: 'Discontinued products are hidden from all but managers (and the superuser).',
  },
];

const { log, lines: logLines } = capturedLog('info');

describe.each([
  ['development', false],
  ['production', true],
])('denials in %s', (_mode, production) => {
  let t: TestGateway;
  let caller: (user: string) => Caller;
  beforeAll(async () => {
    t = await startTestGateway({
      log,
      settings: { ...DEFAULT_GATEWAY_SETTINGS, production },
    });
    // A role no rule mentions (the demo's dev user also holds manager).
    const users = new UserStore(t.db.url);
    await users.addUser({ id: 'dev1', roles: ['dev'], attributes: { clientId: 1 }, password: 'p' });
    await users.close();
    caller = await signIn(t, [...new Set(DENIALS.map((denial) => denial.user))]);
  });
  afterAll(() => t?.close());

  it.each(DENIALS.map((denial) => [denial.name, denial]))('%s', async (_name, denial) => {
    const query = await denial.operation(t, caller(denial.user));
    logLines.length = 0;
    const result = await t.execute(parse(query) as never, {}, caller(denial.user));
    const error = result.errors?.[0];
    expect(error?.extensions?.code).toBe(denial.code);
    expect(error?.message).toMatch(denial.message);
    const logged = logLines.find((line) => line.msg === 'denied by rule');
    expect(logged).toMatchObject({ rule: denial.rule, code: denial.code, requestId: expect.any(String) });
    if (production) expect(error?.extensions).not.toHaveProperty('rule');
    else expect(error?.extensions?.rule).toBe(denial.rule);
  });
});
