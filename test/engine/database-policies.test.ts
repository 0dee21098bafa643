import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { policyStatements } from '../../security/system/database-policies.js';
import { APP_ROLE, prepareDatabaseSecurity } from '../../security/database/database-role.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import {
  COUNTRIES,
  expectedVisible,
  type FixtureDatabase,
  fixturePolicyWith,
  Invoice,
  INVOICES,
  openFixtureDatabase,
  PAYMENTS,
  READERS,
  type Visible,
} from './fixtures.js';

/**
 * Scopes in the database layer: the policies generated from the fixture policy, applied to the tiny
 * schema, with no gateway filter in the way. A raw connection switches to the application role with
 * the reader's transaction-local settings; PostgreSQL alone must keep the chain
 * (payment → invoice → account → tenant), and the grants' filters.
 */
let f: FixtureDatabase;
const expected = new Map<string, Visible>();
/** The fixture tables whose rows a rule restricts; Country is shared and no rule withholds a row of it. */
const RESTRICTED_TABLES = ['account', 'invoice', 'payment'] as const;

beforeAll(async () => {
  f = await openFixtureDatabase();
  for (const statement of policyStatements(f.model.databasePolicies)) await f.db.sql.query(statement);
  const security = await prepareDatabaseSecurity({ ownerOrm: f.orm });
  expect(security).toEqual({ switchToRole: APP_ROLE });
  for (const reader of READERS) expected.set(reader.label, await expectedVisible(f.db, reader.sight));
});
afterAll(() => f?.close());

/**
 * Runs `work` in a transaction as the application role, with `settings` set local, after `policies`
 * (statements that replace the fixture's policies for this transaction only); rolls back.
 */
async function asAppRole<T>(
  client: pg.Client,
  settings: [string, string][],
  work: (client: pg.Client) => Promise<T>,
  policies: string[] = [],
): Promise<T> {
  await client.query('begin');
  try {
    for (const statement of policies) await client.query(statement);
    for (const [name, value] of settings)
      await client.query('select set_config($1, $2, true)', [name, value]);
    await client.query(`set local role ${APP_ROLE}`);
    return await work(client);
  } finally {
    await client.query('rollback');
  }
}

const asReader = <T>(user: AuthUser, work: (client: pg.Client) => Promise<T>) =>
  asAppRole(f.db.sql, f.model.databaseSettings(user), work);

async function idsOf(client: pg.Client, table: string): Promise<number[]> {
  const { rows } = await client.query<{ id: number }>(`select id from "${table}" order by id`);
  return rows.map((row) => row.id);
}

async function countOf(client: pg.Client, table: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from "${table}"`);
  return rows[0]!.n;
}

describe('the policies', () => {
  it('are in place: row-level security forced on every fixture table, the shared one for verbs', async () => {
    const { rows } = await f.db.sql.query<{ relname: string; forced: boolean; enabled: boolean }>(
      `select relname, relforcerowsecurity as forced, relrowsecurity as enabled from pg_class
        where relname = any($1) order by relname`,
      [[...RESTRICTED_TABLES, 'country']],
    );
    expect(rows).toEqual(
      ['account', 'country', 'invoice', 'payment'].map((relname) => ({
        relname,
        forced: true,
        enabled: true,
      })),
    );
  });

  it('the application role owns nothing and does not bypass row-level security', async () => {
    const { rows } = await f.db.sql.query('select rolsuper, rolbypassrls from pg_roles where rolname = $1', [
      APP_ROLE,
    ]);
    expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
  });
});

describe.each(READERS.map((reader) => [reader.label, reader] as const))(
  'the database alone: %s',
  (label, reader) => {
    it('sees exactly the rows of its chain, by list, count and id', async () => {
      const want = expected.get(label)!;
      await asReader(reader.user, async (client) => {
        expect(await idsOf(client, 'payment'), 'payments').toEqual(want.payments);
        expect(await idsOf(client, 'invoice'), 'invoices').toEqual(want.invoices);
        expect(await idsOf(client, 'account'), 'accounts').toEqual(want.accounts);
        expect(await idsOf(client, 'country'), 'countries').toEqual(want.countries);
        expect(await countOf(client, 'payment')).toBe(want.payments.length);
        expect(await countOf(client, 'invoice')).toBe(want.invoices.length);
        const { rows } = await client.query<{ id: number }>(
          'select id from payment where id = any($1) order by id',
          [PAYMENTS.map((p) => p.id)],
        );
        expect(rows.map((row) => row.id)).toEqual(want.payments);
      });
    });
  },
);

describe('what the database does without the gateway’s settings', () => {
  const everyTable = async (client: pg.Client) => {
    const counts: Record<string, number> = {};
    for (const table of RESTRICTED_TABLES) counts[table] = await countOf(client, table);
    return counts;
  };
  const nothing = Object.fromEntries(RESTRICTED_TABLES.map((table) => [table, 0]));

  it('a connection that never set them sees no row of any restricted table, and the shared one whole', async () => {
    const client = new pg.Client({ connectionString: f.db.url });
    await client.connect();
    try {
      expect(await asAppRole(client, [], everyTable)).toEqual(nothing);
      expect(await asAppRole(client, [], (app) => countOf(app, 'country'))).toBe(COUNTRIES.length);
    } finally {
      await client.end();
    }
  });

  it('nor does a connection whose earlier transactions set them (they now read as empty)', async () => {
    await asReader(READERS.find((r) => r.label === 'the superuser')!.user, async () => undefined);
    expect(await asAppRole(f.db.sql, [], everyTable)).toEqual(nothing);
  });

  it('a superuser flag other than on/off admits nothing', async () => {
    const settings = f.model
      .databaseSettings(READERS.find((r) => r.label === 'tenant 1')!.user)
      .map(([name, value]): [string, string] => [name, name === 'grantgate.superuser' ? 'yes' : value]);
    expect(await asAppRole(f.db.sql, settings, everyTable)).toEqual(nothing);
  });
});

describe('the superuser in the database', () => {
  it('is the flag the model sets from the role sa, not a role name: roles ["tenant", "x,sa"] get no powers', async () => {
    const comma = READERS.find((r) => r.label === 'roles ["tenant", "x,sa"] of tenant 2')!.user;
    const settings = new Map(f.model.databaseSettings(comma));
    expect(settings.get('grantgate.superuser')).toBe('off');
    expect(settings.get('grantgate.roles')).toBe('{"tenant","x,sa"}');
    await asReader(comma, async (client) => {
      expect(await idsOf(client, 'payment')).toEqual(expected.get('tenant 2')!.payments);
      // Not even the archived filter's exemption, whose roles include sa.
      expect(await idsOf(client, 'invoice')).not.toContain(8);
    });
  });

  it('with the flag on sees every row, orphans included', async () => {
    const superuser = READERS.find((r) => r.label === 'the superuser')!.user;
    await asReader(superuser, async (client) => {
      expect(await countOf(client, 'payment')).toBe(PAYMENTS.length);
      expect(await countOf(client, 'invoice')).toBe(INVOICES.length);
    });
  });
});

describe('writes follow the chain (WITH CHECK)', () => {
  const tenant1 = READERS.find((r) => r.label === 'tenant 1')!.user;

  it('a payment can be added under a visible invoice', async () => {
    await asReader(tenant1, async (client) => {
      await client.query('insert into payment (id, invoice_id, amount) values (1000, 1, 5)');
      expect(await idsOf(client, 'payment')).toContain(1000);
    });
  });

  it('not under another tenant’s invoice, nor moved there', async () => {
    await expect(
      asReader(tenant1, (client) =>
        client.query('insert into payment (id, invoice_id, amount) values (1001, 6, 5)'),
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(
      asReader(tenant1, (client) => client.query('update payment set invoice_id = 6 where id = 1')),
    ).rejects.toThrow(/row-level security/);
  });

  it('an update or delete of a hidden row touches nothing', async () => {
    const hidden = PAYMENTS.find((p) => p.invoice === 6)!.id;
    await asReader(tenant1, async (client) => {
      expect((await client.query('update payment set amount = 0 where id = $1', [hidden])).rowCount).toBe(0);
      expect((await client.query('delete from payment where id = $1', [hidden])).rowCount).toBe(0);
    });
  });
});

describe('verbs and field roles in the database', () => {
  /**
   * The fixture policy with fields only auditors write, applied inside the transaction (and rolled
   * back with it): `total` has no default, `archived` defaults to false.
   */
  const restricted = fixturePolicyWith(({ restrictFields }) => {
    // Totals are the auditors'.
    restrictFields(Invoice, ['total'], 'auditor');
    // So is archiving.
    restrictFields(Invoice, ['archived'], 'auditor');
  });
  function asReaderUnder<T>(user: AuthUser, work: (client: pg.Client) => Promise<T>): Promise<T> {
    const model = compileSecurityModel(restricted, f.orm.getMetadata());
    return asAppRole(f.db.sql, model.databaseSettings(user), work, policyStatements(model.databasePolicies));
  }
  const tenant1 = () => READERS.find((r) => r.label === 'tenant 1')!.user;
  const auditor1 = () => READERS.find((r) => r.label === 'the auditor of tenant 1')!.user;
  const fieldRefusal = /permission denied for column (total|archived) of invoice/;

  it('a role with the update verb but not the field’s role may not change the field, and may change others', async () => {
    await expect(
      asReaderUnder(tenant1(), (client) => client.query('update invoice set total = total + 1 where id = 1')),
    ).rejects.toThrow(fieldRefusal);
    await asReaderUnder(tenant1(), async (client) => {
      // The same value is no change; another column is the tenant's to write.
      expect((await client.query('update invoice set total = total where id = 1')).rowCount).toBe(1);
      expect((await client.query(`update "account" set name = 'renamed' where id = 1`)).rowCount).toBe(1);
    });
    await asReaderUnder(auditor1(), async (client) => {
      expect((await client.query('update invoice set total = total + 1 where id = 1')).rowCount).toBe(1);
    });
  });

  it('an insert may leave a restricted field to its default, not set it', async () => {
    await expect(
      asReaderUnder(tenant1(), (client) =>
        client.query('insert into invoice (id, account_id, total, archived) values (100, 1, 5, false)'),
      ),
    ).rejects.toThrow(fieldRefusal);
    await asReaderUnder(auditor1(), async (client) => {
      const { rowCount } = await client.query(
        'insert into invoice (id, account_id, total, archived) values (100, 1, 5, true)',
      );
      expect(rowCount).toBe(1);
    });
  });

  it('the refusal names the column and the trigger, for the gateway to answer FORBIDDEN with its rule', async () => {
    const error = await asReaderUnder(tenant1(), (client) =>
      client.query('update invoice set archived = true where id = 1').then(
        () => undefined,
        (e: pg.DatabaseError) => e,
      ),
    );
    expect(error).toMatchObject({ code: '42501', column: 'archived', hint: 'grantgate_field_writes' });
  });

  it('a verb the roles lack: an insert or update is an error, a delete matches no row', async () => {
    await asReaderUnder(tenant1(), async (client) => {
      // The fixture's roles delete nothing.
      expect((await client.query('delete from payment where id = 1')).rowCount).toBe(0);
    });
    const stranger = { id: 'x', roles: ['stranger'], attributes: { clientId: 1 } };
    await asReaderUnder(stranger, async (client) => {
      expect((await client.query('select id from account')).rowCount).toBe(0);
    });
    // A role that reads but may not write: the shared countries, under the base fixture policy.
    await expect(
      asReader(tenant1(), (client) => client.query(`insert into country (id, name) values (9, 'Mu')`)),
    ).rejects.toThrow(/new row violates row-level security policy for table "country"/);
    await expect(
      asReader(tenant1(), (client) => client.query(`update country set name = name where id = 1`)),
    ).rejects.toThrow(/new row violates row-level security policy for table "country"/);
  });
});
