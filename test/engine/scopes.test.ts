import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlCondition } from '../../security/system/row-security.js';
import {
  Account,
  Country,
  expectedVisible,
  type FixtureDatabase,
  Invoice,
  INVOICES,
  openFixtureDatabase,
  Payment,
  PAYMENTS,
  READERS,
  type Visible,
} from './fixtures.js';

/**
 * Scopes in the gateway layer: the model's predicate as the ORM filter of a fork, against a real
 * PostgreSQL, compared with what SPEC §5 says each reader sees (computed in SQL on the raw tables).
 */
let f: FixtureDatabase;
const expected = new Map<string, Visible>();
beforeAll(async () => {
  f = await openFixtureDatabase();
  for (const reader of READERS) expected.set(reader.label, await expectedVisible(f.db, reader.sight));
});
afterAll(() => f?.close());

const ids = (rows: { id: number }[]) => rows.map((row) => row.id);

/** The statements `work` sends. */
async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  const stop = f.queryLog.listen((sql) => statements.push(sql));
  try {
    await work();
  } finally {
    stop();
  }
  return statements;
}

describe('the fixture rows', () => {
  it('have several payments per invoice, several invoices per account, and orphans', () => {
    const several = (keys: unknown[]) =>
      new Set(keys.filter((key, i) => keys.indexOf(key) !== i && key !== null)).size;
    expect(several(PAYMENTS.map((payment) => payment.invoice))).toBeGreaterThan(3);
    expect(several(INVOICES.map((invoice) => invoice.account))).toBeGreaterThan(2);
    expect(PAYMENTS.filter((payment) => payment.invoice > 10).length).toBe(3);
  });

  it('give the readers different answers, so a test cannot pass by accident', () => {
    const answers = new Set(READERS.map((reader) => JSON.stringify(expected.get(reader.label))));
    expect(answers.size).toBeGreaterThanOrEqual(6);
    const superuser = expected.get('the superuser')!;
    expect(superuser.payments).toHaveLength(PAYMENTS.length);
    expect(expected.get('tenant 1')!.payments.length).toBeGreaterThan(3);
    expect(expected.get('tenant 2')!.payments.length).toBeGreaterThan(3);
  });
});

describe.each(READERS.map((reader) => [reader.label, reader] as const))(
  'scopes in the gateway: %s',
  (label, reader) => {
    const want = () => expected.get(label)!;

    it('lists exactly the visible payments, invoices and accounts: no duplicate, none missing', async () => {
      const payments = await f.forkFor(reader.user).find(Payment, {}, { orderBy: { id: 'asc' } });
      expect(ids(payments)).toEqual(want().payments);
      expect(new Set(ids(payments)).size).toBe(payments.length);
      const invoices = await f.forkFor(reader.user).find(Invoice, {}, { orderBy: { id: 'asc' } });
      expect(ids(invoices)).toEqual(want().invoices);
      const accounts = await f.forkFor(reader.user).find(Account, {}, { orderBy: { id: 'asc' } });
      expect(ids(accounts)).toEqual(want().accounts);
    });

    it('counts exactly', async () => {
      expect(await f.forkFor(reader.user).count(Payment)).toBe(want().payments.length);
      expect(await f.forkFor(reader.user).count(Invoice)).toBe(want().invoices.length);
      expect(await f.forkFor(reader.user).count(Account)).toBe(want().accounts.length);
    });

    it('finds a visible payment by id and not a hidden one', async () => {
      for (const payment of PAYMENTS) {
        const found = await f.forkFor(reader.user).findOne(Payment, payment.id);
        expect(found?.id ?? null, `payment ${payment.id}`).toBe(
          want().payments.includes(payment.id) ? payment.id : null,
        );
      }
      for (const invoice of INVOICES) {
        const found = await f.forkFor(reader.user).findOne(Invoice, invoice.id);
        expect(found?.id ?? null, `invoice ${invoice.id}`).toBe(
          want().invoices.includes(invoice.id) ? invoice.id : null,
        );
      }
    });

    it('reads the shared countries', async () => {
      const countries = await f.forkFor(reader.user).find(Country, {}, { orderBy: { id: 'asc' } });
      expect(ids(countries)).toEqual(want().countries);
    });
  },
);

describe('SPEC §5 on scopes, read through the gateway', () => {
  const reader = (label: string) => READERS.find((r) => r.label === label)!;

  it('a payment whose invoice has no account is visible to the superuser only', async () => {
    const orphans = PAYMENTS.filter(
      (payment) => INVOICES.find((i) => i.id === payment.invoice)!.account === null,
    );
    expect(orphans.length).toBeGreaterThan(0);
    for (const { label, user } of READERS) {
      const seen = ids(await f.forkFor(user).find(Payment, { id: { $in: orphans.map((p) => p.id) } }));
      expect(seen.length, label).toBe(label === 'the superuser' ? orphans.length : 0);
    }
  });

  it('a payment of an archived invoice follows its invoice: hidden from tenants, visible to the auditor', async () => {
    const archived = PAYMENTS.filter((p) => p.invoice === 3).map((p) => p.id);
    expect(archived).toHaveLength(1);
    expect(await f.forkFor(reader('tenant 1').user).count(Payment, { id: { $in: archived } })).toBe(0);
    expect(
      await f.forkFor(reader('the auditor of tenant 1').user).count(Payment, { id: { $in: archived } }),
    ).toBe(1);
  });

  it('the scope is a semi-join (exists (select …)), never a join, at every level', async () => {
    const user = reader('tenant 1').user;
    const semiJoins = async (find: () => Promise<unknown>, subqueries: number) => {
      const statements = await statementsOf(find);
      expect(statements).toHaveLength(1);
      const sql = statements[0]!.toLowerCase();
      expect(sql, sql).not.toMatch(/\bjoin\b/);
      expect(sql.match(/\bexists \(select /g)?.length, sql).toBe(subqueries);
    };
    // Payment → invoice → account: two nested subqueries; Invoice → account: one.
    await semiJoins(() => f.forkFor(user).find(Payment, {}), 2);
    await semiJoins(() => f.forkFor(user).find(Invoice, {}), 1);
    const counted = await statementsOf(() => f.forkFor(user).count(Payment));
    expect(counted[0]!.toLowerCase()).toMatch(/\bexists \(select /);
    expect(counted[0]!.toLowerCase()).not.toMatch(/\bjoin\b/);
  });

  it('the superuser’s reads carry no condition at all', async () => {
    const statements = await statementsOf(() => f.forkFor(reader('the superuser').user).find(Payment, {}));
    expect(statements[0]!.toLowerCase()).not.toMatch(/\bwhere\b/);
  });

  it('a populated scope relation is the visible parent', async () => {
    const payments = await f
      .forkFor(reader('tenant 2').user)
      .find(Payment, {}, { populate: ['invoice'], orderBy: { id: 'asc' } });
    expect(payments.length).toBe(expected.get('tenant 2')!.payments.length);
    for (const payment of payments) expect(expected.get('tenant 2')!.invoices).toContain(payment.invoice.id);
  });
});

describe('relation ids match only through visible related rows (relatedRowVisible)', () => {
  const tenant1 = READERS.find((r) => r.label === 'tenant 1')!.user;
  const superuser = READERS.find((r) => r.label === 'the superuser')!.user;
  /** Payment 1 is tenant 1's (invoice 1), paid by account 3 of tenant 2. */
  const crossTenant = PAYMENTS.find((p) => p.payer === 3 && p.invoice === 1)!;

  /** `payer = id`, as the API translates it: the condition and "through a visible account". */
  async function paidBy(user: typeof tenant1, payer: number) {
    const fork = f.forkFor(user);
    const visible = f.model.relatedRowVisible(user, 'Payment', 'payer');
    const where = visible ? { $and: [{ payer }, sqlCondition(visible)] } : { payer };
    return ids(await fork.find(Payment, where as never, { orderBy: { id: 'asc' } }));
  }

  it('a condition on the id of a hidden account matches nothing, though the payment itself is visible', async () => {
    expect(expected.get('tenant 1')!.payments).toContain(crossTenant.id);
    // Without relatedRowVisible the plain foreign key would reveal that account 3 paid.
    const plain = ids(await f.forkFor(tenant1).find(Payment, { payer: 3 }));
    expect(plain).toContain(crossTenant.id);
    expect(await paidBy(tenant1, 3)).toEqual([]);
  });

  it('a condition on the id of a visible account matches its visible payments', async () => {
    const want = PAYMENTS.filter(
      (p) => p.payer === 1 && expected.get('tenant 1')!.payments.includes(p.id),
    ).map((p) => p.id);
    expect(want.length).toBeGreaterThan(0);
    expect(await paidBy(tenant1, 1)).toEqual(want);
  });

  it('the superuser needs no condition and matches every payment of the payer', async () => {
    expect(f.model.relatedRowVisible(superuser, 'Payment', 'payer')).toBeUndefined();
    expect(await paidBy(superuser, 3)).toEqual(PAYMENTS.filter((p) => p.payer === 3).map((p) => p.id));
  });

  it('the scope relation needs none (its predicate already requires the parent); a column is no relation', () => {
    expect(f.model.relatedRowVisible(tenant1, 'Payment', 'invoice')).toBeUndefined();
    expect(f.model.relatedRowVisible(tenant1, 'Invoice', 'account')).toBeUndefined();
    expect(() => f.model.relatedRowVisible(tenant1, 'Payment', 'amount')).toThrow(/not a relation/);
  });

  it('the condition is a subquery on the related entity, with its whole predicate', async () => {
    const fork = f.forkFor(tenant1);
    const visible = f.model.relatedRowVisible(tenant1, 'Payment', 'payer')!;
    const payments = await fork.find(Payment, sqlCondition(visible) as never, {
      filters: false,
      orderBy: { id: 'asc' },
    });
    const accounts = expected.get('tenant 1')!.accounts;
    expect(ids(payments)).toEqual(
      PAYMENTS.filter((p) => p.payer !== null && accounts.includes(p.payer)).map((p) => p.id),
    );
  });
});
