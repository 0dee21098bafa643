import { randomBytes } from 'node:crypto';
import { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { policyStatements } from '../../security/system/database-policies.js';
import { declareSecurity } from '../../security/system/policy.js';
import { dangerouslyBypassRowSecurity } from '../../security/system/row-security.js';
import { compileSecurityModel, type SecurityModel } from '../../security/system/security-model.js';
import { createOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import {
  Account,
  ACCOUNTS,
  COUNTRIES,
  Country,
  DATABASE_ENTITIES,
  Invoice,
  Note,
  Payment,
} from './fixtures.js';

/**
 * Only the tables whose rows the declarations restrict (a global filter, a scope, a filtered grant)
 * are closed to every other client of the database; on the others the policies check a gateway
 * request's verbs and let every other client through. A policy of its own: Account has the tenant column, Invoice and Payment are scoped,
 * Note is shared but a filtered grant withholds rows from editors, and Country is shared with only
 * verbs to its name — no rule withholds a row of it.
 */
const policy = declareSecurity(({ rolePermission, tenantFilter, scope, sharedByAllTenants, grant }) => {
  rolePermission('tenant', { delete: false });
  tenantFilter('clientId', (user) => ({ clientId: user.clientId }), { rolesNotFiltered: [] });
  scope(Invoice, 'account');
  scope(Payment, 'invoice');
  sharedByAllTenants(Country, Note);
  grant(Country, 'editor');
  grant(Note, 'editor', { filter: () => ({ text: 'for editors' }) });
});
const NOTES = [
  { id: 1, text: 'for editors' },
  { id: 2, text: 'for tenants' },
];

/** Another application of the same database: a login role that is neither superuser nor BYPASSRLS. */
const otherClient = `grantgate_test_reporting_${randomBytes(3).toString('hex')}`;
const password = randomBytes(12).toString('hex');

let db: TestDatabase;
let orm: MikroORM;
let model: SecurityModel;

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  orm = await MikroORM.init(
    createOrmOptions({
      clientUrl: db.url,
      queryLog: new QueryLog(pino({ level: 'silent' })),
      entities: [...DATABASE_ENTITIES, Note],
    }),
  );
  await orm.schema.create();
  const em = dangerouslyBypassRowSecurity(orm.em);
  for (const row of ACCOUNTS) em.create(Account, row);
  for (const row of COUNTRIES) em.create(Country, row);
  for (const row of NOTES) em.create(Note, row);
  await em.flush();
  model = compileSecurityModel(policy, orm.getMetadata());
  for (const statement of policyStatements(model.databasePolicies)) await db.sql.query(statement);
  await db.sql.query(`create role ${otherClient} login password '${password}'`);
  await db.sql.query(`grant select, insert, delete on all tables in schema public to ${otherClient}`);
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
  // Roles belong to the server: dropped once the database holding its rights and policies is gone.
  const server = new pg.Client({ connectionString: inject('serverUrl') });
  await server.connect();
  await server.query(`drop role if exists ${otherClient}`).finally(() => server.end());
});

/** Runs `work` on a connection of the other client: no gateway settings, its own role. */
async function asOtherClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(db.url);
  url.username = otherClient;
  url.password = password;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const countsOf = async (client: pg.Client, tables: string[]) => {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from "${table}"`);
    counts[table] = rows[0]!.n;
  }
  return counts;
};

describe('row-level security closes only the tables whose rows a rule restricts', () => {
  it('plans row policies for a global filter, a scope and a filtered grant; verbs alone for a shared table', () => {
    const plan = model.databasePolicies;
    expect(plan.tables).toEqual(['account', 'invoice', 'note', 'payment']);
    expect(plan.unrestrictedTables).toEqual(['country']);
    expect(plan.policies.filter((p) => p.table === 'country').map((p) => `${p.name} ${p.command}`)).toEqual([
      'grantgate_may_read select',
      'grantgate_may_insert insert',
      'grantgate_may_update update',
      'grantgate_may_delete delete',
    ]);
    // The filtered grant restricts its table's rows in the database too.
    expect(plan.policies.filter((p) => !p.command).map((p) => `${p.table}.${p.name}`)).toEqual([
      'account.grantgate_clientId',
      'note.grantgate_grants',
      'invoice.grantgate_scope',
      'payment.grantgate_scope',
    ]);
  });

  it('enables and forces it on every table, the unrestricted one for its verbs', async () => {
    const { rows } = await db.sql.query<{ table: string; enabled: boolean; forced: boolean }>(
      `select relname as table, relrowsecurity as enabled, relforcerowsecurity as forced from pg_class
        where relname = any($1) order by relname`,
      [['account', 'country', 'invoice', 'note', 'payment']],
    );
    expect(rows).toEqual([
      { table: 'account', enabled: true, forced: true },
      { table: 'country', enabled: true, forced: true },
      { table: 'invoice', enabled: true, forced: true },
      { table: 'note', enabled: true, forced: true },
      { table: 'payment', enabled: true, forced: true },
    ]);
  });

  it('another login role of the database reads every row of the unrestricted table and none of a restricted one', async () => {
    const { rows } = await db.sql.query('select rolsuper, rolbypassrls from pg_roles where rolname = $1', [
      otherClient,
    ]);
    expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
    expect(await asOtherClient((client) => countsOf(client, ['country', 'account', 'note']))).toEqual({
      country: COUNTRIES.length,
      account: 0,
      note: 0,
    });
  });

  it('writes the unrestricted table as before, where a gateway request needs the verb', async () => {
    await asOtherClient(async (client) => {
      await client.query(`insert into country (id, name) values (100, 'Mu')`);
      expect((await client.query('delete from country where id = 100')).rowCount).toBe(1);
    });
    // A tenant reads countries but may not write them (shared); an editor's grant may.
    const asRequestOf = async (roles: string[], statement: string) => {
      const client = db.sql;
      await client.query('begin');
      try {
        const user = { id: 'u', roles, attributes: { clientId: 1 } };
        for (const [name, value] of model.databaseSettings(user))
          await client.query('select set_config($1, $2, true)', [name, value]);
        await client.query(`set local role ${otherClient}`);
        return await client.query(statement);
      } finally {
        await client.query('rollback');
      }
    };
    const insert = `insert into country (id, name) values (101, 'Hy-Brasil')`;
    await expect(asRequestOf(['tenant'], insert)).rejects.toThrow(
      /new row violates row-level security policy for table "country"/,
    );
    expect((await asRequestOf(['editor'], insert)).rowCount).toBe(1);
    expect((await asRequestOf(['tenant'], 'select id from country')).rowCount).toBe(COUNTRIES.length);
    expect((await asRequestOf(['stranger'], 'select id from country')).rowCount).toBe(0);
  });
});

describe('what README tells a team to do for another client', () => {
  it('a policy of its own opens no table grantgate restricts: its restrictive policies apply to every role', async () => {
    for (const table of ['note', 'account'])
      await db.sql.query(
        `create policy reporting_reads_all on "${table}" for select to ${otherClient} using (true)`,
      );
    expect(await asOtherClient((client) => countsOf(client, ['note', 'account']))).toEqual({
      note: 0,
      account: 0,
    });
  });

  it('a role with BYPASSRLS reads every row of every table', async () => {
    await db.sql.query(`alter role ${otherClient} bypassrls`);
    expect(await asOtherClient((client) => countsOf(client, ['country', 'account', 'note']))).toEqual({
      country: COUNTRIES.length,
      account: ACCOUNTS.length,
      note: NOTES.length,
    });
  });
});
