import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
