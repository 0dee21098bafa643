import { wrap } from '@mikro-orm/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Account,
  expectedVisible,
  type FixtureDatabase,
  openFixtureDatabase,
  Payment,
  PAYMENTS,
  READERS,
} from './fixtures.js';

/**
 * A relation loaded with its owner (MikroORM's populate) is limited by the row security like any read:
 * the ORM's joined strategy would copy only property conditions into the join and bring in another
 * tenant's rows, so the gateway loads relations by queries of their own (src/db/orm-config.ts).
 */
let f: FixtureDatabase;
beforeAll(async () => {
  f = await openFixtureDatabase();
});
afterAll(() => f?.close());

const { user: tenant1, sight } = READERS.find((reader) => reader.label === 'tenant 1')!;

describe('relations loaded with their owner (populate)', () => {
  it('leave a to-one of another tenant unloaded: its columns are never read', async () => {
    // Payment 1 is tenant 1's (invoice 1), paid by account 3 of tenant 2.
    const crossTenant = PAYMENTS.find((payment) => payment.payer === 3 && payment.invoice === 1)!;
    const payment = await f.forkFor(tenant1).findOne(Payment, crossTenant.id, { populate: ['payer'] });
    expect(payment).not.toBeNull();
    expect(payment!.payer && wrap(payment!.payer).isInitialized()).toBeFalsy();
    expect(payment!.payer?.clientId).toBeUndefined();
  });

  it('fill a to-many with the visible rows only (an archived invoice stays out)', async () => {
    const visible = (await expectedVisible(f.db, sight)).invoices;
    const accounts = await f.forkFor(tenant1).find(Account, {}, { populate: ['invoices'] });
    const loaded = accounts.flatMap((account) => account.invoices.getItems().map((invoice) => invoice.id));
    expect(loaded.length).toBeGreaterThan(0);
    expect(loaded.filter((id) => !visible.includes(id))).toEqual([]);
  });
});
