import { parse } from 'graphql';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../demo/northwind/demo-users.js';
import { APP_ROLE } from '../../security/database/database-role.js';
import { databaseFingerprint } from '../helpers/database-fingerprint.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

type Verb = 'read' | 'insert' | 'update' | 'delete';

/**
 * Which verbs each demo user has on each entity, worked out by hand from the sample declarations
 * (SPEC §5) — not by asking the engine: tenant has all four; renter, manager, sales and public all
 * but delete; a Grant gives its role every verb on its entity (Customer for customer, sales, public;
 * Department and Employee for manager, but delete); the shared entities are read-only to every
 * role but a grant's (SPEC §8); dev has nothing; sa everything.
 */
const ROLE_VERBS: Record<string, Verb[]> = {
  tenant: ['read', 'insert', 'update', 'delete'],
  renter: ['read', 'insert', 'update'],
  manager: ['read', 'insert', 'update'],
  sales: ['read', 'insert', 'update'],
  public: ['read', 'insert', 'update'],
  dev: [],
  customer: [],
};
const CUSTOMER_GRANT_ROLES = ['customer', 'sales', 'public'];
const SHARED = ['Department', 'Employee', 'Supplier', 'Shipper'];
const MANAGER_GRANTS = ['Department', 'Employee'];
const ALL: Verb[] = ['read', 'insert', 'update', 'delete'];

const USERS: Record<string, string[]> = {
  admin: ['sa'],
  aneu: ['tenant'],
  u1: ['tenant'],
  u2: ['manager', 'tenant'],
  sam: ['dev', 'manager'],
  s1: ['sales'],
  r1: ['renter'],
  ALFKI: ['tenant', 'customer'],
  ANATR: ['tenant', 'customer'],
  p1: ['public'],
};

function expectedVerbs(roles: string[], entity: string): Set<Verb> {
  if (roles.includes('sa')) return new Set(ALL);
  const verbs = new Set(roles.flatMap((role) => ROLE_VERBS[role] ?? []));
  if (SHARED.includes(entity)) for (const verb of ['insert', 'update', 'delete'] as const) verbs.delete(verb);
  if (entity === 'Customer' && roles.some((role) => CUSTOMER_GRANT_ROLES.includes(role)))
    ALL.forEach((v) => verbs.add(v));
  if (MANAGER_GRANTS.includes(entity) && roles.includes('manager'))
    (['read', 'insert', 'update'] as const).forEach((v) => verbs.add(v));
  return verbs;
}

/** Per entity: an id that does not exist, and a create input that cannot succeed past the verb check. */
const ENTITIES: [entity: string, plural: string, missingId: string, failingCreate: string][] = [
  ['Category', 'categories', '999999', `{ categoryName: "${'x'.repeat(41)}" }`],
  ['Customer', 'customers', '"NOPE0"', '{ id: "ALFKI", companyName: "duplicate" }'],
  ['Department', 'departments', '999999', '{ departmentName: "x", parentId: 999999 }'],
  ['Employee', 'employees', '999999', '{ firstName: "x", lastName: "y", reportsToId: 999999 }'],
  [
    'Supplier',
    'suppliers',
    '999999',
    '{ companyName: "x", region: "Nowhere Land that is far too long for the column" }',
  ],
  ['Shipper', 'shippers', '999999', `{ companyName: "${'x'.repeat(81)}" }`],
  ['Product', 'products', '999999', '{ productName: "x", unitPrice: 1, categoryId: 999999 }'],
  ['Order', 'orders', '999999', '{ customerId: "NOPE0" }'],
  ['OrderDetail', 'orderDetails', '999999', '{ orderId: 999999, productId: 1, unitPrice: 1, quantity: 1 }'],
];

let t: TestGateway;
let callerOf: (userId: string) => Caller;
beforeAll(async () => {
  t = await startTestGateway();
  callerOf = await signIn(t, Object.keys(USERS));
});
afterAll(() => t?.close());

async function code(userId: string, document: string): Promise<string | undefined> {
  const result = await t.execute(parse(document) as never, {}, callerOf(userId));
  return result.errors?.[0]?.extensions?.code as string | undefined;
}

describe.each(Object.entries(USERS))('%s (%j): every verb on every entity', (userId, roles) => {
  it('is allowed exactly where the declarations allow it, and a refused verb changes nothing', async () => {
    const before = await databaseFingerprint(t.db.sql);
    const mismatches: string[] = [];
    for (const [entity, plural, missingId, failingCreate] of ENTITIES) {
      const allowed = expectedVerbs(roles, entity);
      const outcomes: Record<Verb, string | undefined> = {
        read: await code(userId, `{ ${plural}(limit: 1) { id } }`),
        insert: await code(userId, `mutation { create${entity}(input: ${failingCreate}) { id } }`),
        update: await code(userId, `mutation { update${entity}(id: ${missingId}, input: {}) { id } }`),
        delete: await code(userId, `mutation { delete${entity}(id: ${missingId}) }`),
      };
      for (const verb of ALL) {
        const forbidden = outcomes[verb] === 'FORBIDDEN';
        if (forbidden === allowed.has(verb))
          mismatches.push(`${verb} ${entity}: got ${outcomes[verb] ?? 'success'}`);
      }
      // Past the verb check, these requests fail for their data (missing id, bad input): never success.
      if (allowed.has('update') && outcomes.update !== 'NOT_FOUND')
        mismatches.push(`update ${entity}: ${outcomes.update}`);
      if (allowed.has('delete') && outcomes.delete !== 'NOT_FOUND')
        mismatches.push(`delete ${entity}: ${outcomes.delete}`);
      if (allowed.has('insert') && outcomes.insert === undefined)
        mismatches.push(`insert ${entity} succeeded`);
    }
    expect(mismatches).toEqual([]);
    expect(await databaseFingerprint(t.db.sql)).toEqual(before);
  });
});

/** A field only some roles may write, worked out by hand as above: Employee.salary, managers. */
const FIELD_ROLES: Record<string, Record<string, string[]>> = { Employee: { salary: ['manager'] } };

type Outcome = 'allowed' | 'refused' | 'no row';

/**
 * The same table held against PostgreSQL alone: the application role, the request's settings, no
 * gateway. Each verb is tried on a row the user may read (a write of a row it cannot see touches
 * nothing whatever its verbs), in a transaction that is rolled back: a refused insert or update is
 * PostgreSQL's error, a refused delete deletes no row, a refused read returns none.
 */
describe.each(Object.entries(USERS))(
  '%s (%j): every verb on every entity, PostgreSQL alone',
  (userId, roles) => {
    const user = () => DEMO_USERS.find((each) => each.id === userId)!;
    const client = () => t.db.sql;

    /** Runs `statement` at a savepoint: what PostgreSQL made of it. */
    async function attempt(
      statement: string,
      params: unknown[] = [],
    ): Promise<{ rows: number } | { error: pg.DatabaseError }> {
      await client().query('savepoint attempt');
      try {
        return { rows: (await client().query(statement, params)).rowCount ?? 0 };
      } catch (error) {
        return { error: error as pg.DatabaseError };
      } finally {
        await client().query('rollback to savepoint attempt');
      }
    }
    // A verb's policy is the table's permissive one: its refusal names no policy (a restrictive one's does).
    const refusedForVerb = (result: Awaited<ReturnType<typeof attempt>>) =>
      'error' in result &&
      result.error.code === '42501' &&
      /new row violates row-level security policy for table/.test(result.error.message);

    it('is allowed exactly where the declarations allow it, field writes included', async () => {
      const before = await databaseFingerprint(t.db.sql);
      const mismatches: string[] = [];
      let checked = 0;
      for (const [entity, plural] of ENTITIES) {
        const allowed = expectedVerbs(roles, entity);
        const meta = t.model.entity(entity);
        const table = `"${meta.tableName}"`;
        const key = `"${meta.getPrimaryProps()[0]!.fieldNames[0]}"`;
        // Every row, for an insert's values: read as the PostgreSQL superuser, whom no policy restricts.
        const everyRow = new Map(
          (await client().query<Record<string, unknown>>(`select * from ${table}`)).rows.map((row) => [
            String(row[key.slice(1, -1)]),
            row,
          ]),
        );
        const gatewayCount = await t.execute(parse(`{ n: ${plural}Count }`) as never, {}, callerOf(userId));
        await client().query('begin');
        try {
          for (const [name, value] of t.model.databaseSettings(user()))
            await client().query('select set_config($1, $2, true)', [name, value]);
          await client().query(`set local role ${APP_ROLE}`);
          const visible = await client().query<{ id: unknown }>(
            `select ${key} as id from ${table} order by 1`,
          );
          // Read: the rows the gateway counts (none where it refuses the verb).
          const expectedRows = gatewayCount.errors ? 0 : (gatewayCount.data as { n: number }).n;
          if (visible.rowCount !== expectedRows)
            mismatches.push(`read ${entity}: ${visible.rowCount} rows, the gateway ${expectedRows}`);
          if ((gatewayCount.errors?.[0]?.extensions?.code === 'FORBIDDEN') === allowed.has('read'))
            mismatches.push(`read ${entity}: the gateway ${gatewayCount.errors ? 'refused' : 'allowed'}`);
          const row = visible.rows[0];
          const outcomes: Record<Exclude<Verb, 'read'>, Outcome> = {
            insert: 'no row',
            update: 'no row',
            delete: 'no row',
          };
          if (row) {
            const values = everyRow.get(String(row.id))!;
            // The copy leaves out the fields the user may not write (those are the next check's).
            const columns = Object.keys(values).filter(
              (column) =>
                !Object.entries(FIELD_ROLES[entity] ?? {}).some(
                  ([field, fieldRoles]) =>
                    meta.properties[field as never]!.fieldNames[0] === column &&
                    !roles.some((role) => fieldRoles.includes(role) || role === 'sa'),
                ),
            );
            // The same key as a row that exists: an insert past the verb is a duplicate, never written.
            const insert = await attempt(
              `insert into ${table} (${columns.map((c) => `"${c}"`).join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
              columns.map((column) => values[column]),
            );
            outcomes.insert = refusedForVerb(insert) ? 'refused' : 'allowed';
            if ('error' in insert && !['23505', '42501'].includes(insert.error.code!))
              mismatches.push(`insert ${entity}: ${insert.error.message}`);
            const update = await attempt(`update ${table} set ${key} = ${key} where ${key} = $1`, [row.id]);
            outcomes.update = refusedForVerb(update) ? 'refused' : 'allowed';
            if (!('rows' in update && update.rows === 1) && outcomes.update === 'allowed')
              mismatches.push(`update ${entity}: ${'error' in update ? update.error.message : 'no row'}`);
            const deleted = await attempt(`delete from ${table} where ${key} = $1`, [row.id]);
            // Past the policy, a row others refer to is kept by its foreign keys: allowed all the same.
            outcomes.delete =
              'rows' in deleted
                ? deleted.rows === 1
                  ? 'allowed'
                  : 'refused'
                : deleted.error.code === '23503'
                  ? 'allowed'
                  : 'refused';
            for (const [field, fieldRoles] of Object.entries(FIELD_ROLES[entity] ?? {})) {
              const column = `"${meta.properties[field as never]!.fieldNames[0]}"`;
              const may =
                roles.includes('sa') ||
                (allowed.has('update') && roles.some((role) => fieldRoles.includes(role)));
              const write = await attempt(
                `update ${table} set ${column} = coalesce(${column}, 0) + 1 where ${key} = $1`,
                [row.id],
              );
              const wrote = 'rows' in write && write.rows === 1;
              if (wrote !== may)
                mismatches.push(
                  `write ${entity}.${field}: ${'error' in write ? write.error.message : 'written'}`,
                );
              checked += 1;
            }
          }
          for (const verb of ['insert', 'update', 'delete'] as const) {
            if (outcomes[verb] === 'no row') continue;
            checked += 1;
            if ((outcomes[verb] === 'allowed') !== allowed.has(verb))
              mismatches.push(`${verb} ${entity}: ${outcomes[verb]}`);
          }
        } finally {
          await client().query('rollback');
        }
      }
      expect(mismatches).toEqual([]);
      // Each user reads some row of most entities: the writes were tried, not skipped.
      expect(checked).toBeGreaterThan(roles.includes('dev') || roles.length === 0 ? 0 : 12);
      expect(await databaseFingerprint(t.db.sql)).toEqual(before);
    });
  },
);
