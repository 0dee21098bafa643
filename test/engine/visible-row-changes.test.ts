import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSecurityModel } from '../../security/system/security-model.js';
import { visibleRowChanges, visibleRowChangesText } from '../../src/explain/visible-row-changes.js';
import {
  Country,
  type FixtureDatabase,
  fixturePolicy,
  fixturePolicyWith,
  openFixtureDatabase,
  READERS,
} from './fixtures.js';

/**
 * What `security:diff --rows` adds: per user and entity, the rows read under two revisions of the
 * declarations, counted on the same database. The expected counts are SQL the test writes itself.
 */
let f: FixtureDatabase;
beforeAll(async () => {
  f = await openFixtureDatabase();
});
afterAll(() => f?.close());

const reader = (label: string) => READERS.find((r) => r.label === label)!.user;
const count = async (sql: string) => (await f.db.sql.query<{ n: number }>(sql)).rows[0]!.n;
const compile = (policy: typeof fixturePolicy) => compileSecurityModel(policy, f.orm.getMetadata());

describe('the rows each user reads, before and after a change of the declarations', () => {
  it('a removed grant: its role no longer reads the entity', async () => {
    const editor = { id: 'ed', roles: ['editor'], attributes: { clientId: 1 } };
    const before = compile(fixturePolicyWith(({ grant }) => grant(Country, 'editor')));
    const changes = await visibleRowChanges(f.orm, before, compile(fixturePolicy), [
      editor,
      reader('tenant 1'),
    ]);
    expect(changes).toEqual([
      {
        user: 'ed',
        entity: 'Country',
        before: await count('select count(*)::int as n from country'),
        after: null,
      },
    ]);
    expect(visibleRowChangesText(changes, [editor])).toBe(
      'Rows read, counted now (ed):\n  ed, Country: 2 rows → no read',
    );
  });

  it('an added filter: fewer rows of its entity, and of those scoped through it', async () => {
    const after = compile(
      fixturePolicyWith(({ globalFilter }) =>
        // Small invoices only.
        globalFilter('total', () => ({ total: { $lt: 500 } }), { rolesNotFiltered: [] }),
      ),
    );
    const tenant1 = reader('tenant 1');
    const changes = await visibleRowChanges(f.orm, compile(fixturePolicy), after, [tenant1]);
    const invoices = (condition: string) =>
      `select id from invoice where account_id in (select id from account where client_id = 1) and not archived${condition}`;
    expect(changes).toEqual([
      {
        user: 't1',
        entity: 'Invoice',
        before: await count(`select count(*)::int as n from (${invoices('')}) i`),
        after: await count(`select count(*)::int as n from (${invoices(' and total < 500')}) i`),
      },
      {
        user: 't1',
        entity: 'Payment',
        before: await count(`select count(*)::int as n from payment where invoice_id in (${invoices('')})`),
        after: await count(
          `select count(*)::int as n from payment where invoice_id in (${invoices(' and total < 500')})`,
        ),
      },
    ]);
    expect(changes[0]!.after).toBeLessThan(changes[0]!.before!);
  });

  it('no change: nothing to report, and the superuser reads every row either way', async () => {
    const users = [reader('tenant 1'), reader('the superuser')];
    const changes = await visibleRowChanges(f.orm, compile(fixturePolicy), compile(fixturePolicy), users);
    expect(changes).toEqual([]);
    expect(visibleRowChangesText(changes, users)).toBe('No change to the rows t1, admin read.');
  });
});
