import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../auth-providers/sql/user-store.js';
import { databaseFingerprint } from '../helpers/database-fingerprint.js';
import { type Caller, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
  const users = new UserStore(t.db.url);
  await users.addUser({ id: 'devonly', roles: ['dev'], attributes: { clientId: 1 }, password: 'p' });
  await users.addUser({ id: 'noclient', roles: ['tenant'], attributes: {}, password: 'p' });
  await users.close();
});
afterAll(() => t?.close());

const callers = new Map<string, Caller>();
async function as(userId: string, query: string, variables: Record<string, unknown> = {}) {
  if (!callers.has(userId)) callers.set(userId, await t.callerFor(userId));
  return t.execute(parse(query) as never, variables, callers.get(userId)!);
}
const state = () => databaseFingerprint(t.db.sql);
const sqlRow = async (query: string) => (await t.db.sql.query(query)).rows[0];

describe('verbs', () => {
  it('a renter may not delete: FORBIDDEN with the message of SPEC §4, and nothing changes', async () => {
    const before = await state();
    const result = await as('r1', 'mutation { deleteShipper(id: 3) }');
    expect(result.errors?.[0]).toMatchObject({
      message: 'User r1 with roles [renter] does not have delete access on entity: Shipper',
      extensions: { code: 'FORBIDDEN' },
    });
    expect(await state()).toEqual(before);
  });

  it('a user without roles is public, which may not delete either', async () => {
    const result = await as('p1', 'mutation { deleteShipper(id: 3) }');
    expect(result.errors?.[0]?.message).toBe(
      'User p1 with roles [public] does not have delete access on entity: Shipper',
    );
  });

  it('a role with no permission at all gets FORBIDDEN on reads, not an empty list', async () => {
    for (const query of ['{ customers { id } }', '{ customersCount }', '{ customer(id: "ALFKI") { id } }']) {
      const result = await as('devonly', query);
      expect(result.errors?.[0]).toMatchObject({
        message: 'User devonly with roles [dev] does not have read access on entity: Customer',
        extensions: { code: 'FORBIDDEN' },
      });
    }
  });
});

describe('field permissions', () => {
  it('Employee.salary is FORBIDDEN to a tenant, readable by a manager', async () => {
    const tenant = await as('u1', '{ employees(limit: 1) { id salary } }');
    expect(tenant.errors?.[0]).toMatchObject({
      message: 'User u1 with roles [tenant] does not have read access on field: Employee.salary',
      extensions: { code: 'FORBIDDEN' },
    });
    expect((await as('u1', '{ employees(limit: 1) { id lastName } }')).errors).toBeUndefined();
    const manager = await as('u2', '{ employees(limit: 1, orderBy: [{ id: ASC }]) { salary } }');
    expect(manager.data).toEqual({
      employees: [{ salary: (await sqlRow('select salary from employee order by id limit 1')).salary }],
    });
  });

  it.each([
    ['a where', '{ employees(where: { salary: { gt: 100000 } }) { id } }'],
    ['an orderBy', '{ employees(orderBy: [{ salary: DESC }]) { id } }'],
    ['a count', '{ employeesCount(where: { salary: { gt: 100000 } }) }'],
    ['a nested where', '{ departments { employees(where: { salary: { lt: 50000 } }) { id } } }'],
  ])(
    'a field the user may not read is FORBIDDEN in %s too (it would leak one comparison at a time)',
    async (_case, query) => {
      const result = await as('u1', query);
      expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      // No employee rows, nor a count, came back.
      expect(JSON.stringify(result.data ?? null)).not.toMatch(/"employees":\[\{|"employeesCount":\d/);
    },
  );
});

describe('writes', () => {
  it('an insert is stamped with the user’s tenant when the input omits it', async () => {
    const result = await as(
      'aneu',
      'mutation { createCategory(input: { categoryName: "Stamped" }) { id clientId } }',
    );
    expect(result.errors).toBeUndefined();
    const id = (result.data as { createCategory: { id: string } }).createCategory.id;
    expect(await sqlRow(`select client_id from category where id = ${id}`)).toEqual({ client_id: 1 });
  });

  it.each([
    [
      'insert a row into another tenant',
      'mutation { createCategory(input: { categoryName: "Sneaky", clientId: 2 }) { id } }',
    ],
    ['move a row to another tenant', 'mutation { updateCategory(id: 1, input: { clientId: 2 }) { id } }'],
  ])('a tenant may not %s: BAD_USER_INPUT and nothing written', async (_case, mutation) => {
    const before = await state();
    const result = await as('aneu', mutation);
    expect(result.errors?.[0]).toMatchObject({
      message: 'Category.clientId must be your own (1)',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await state()).toEqual(before);
  });

  it.each([
    ['update', 'mutation { updateCategory(id: 5, input: { categoryName: "Mine now" }) { id } }'],
    ['delete', 'mutation { deleteCustomer(id: "ANATR") }'],
  ])('%s of another tenant’s row is NOT_FOUND, and nothing changes', async (_verb, mutation) => {
    const before = await state();
    const result = await as('aneu', mutation);
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await state()).toEqual(before);
  });

  it('a foreign key to a row the user cannot see is NOT_FOUND', async () => {
    const before = await state();
    const result = await as(
      'aneu',
      'mutation { createProduct(input: { productName: "X", unitPrice: 1, categoryId: 5 }) { id } }',
    );
    expect(result.errors?.[0]).toMatchObject({
      message: 'Category 5 not found (categoryId)',
      extensions: { code: 'NOT_FOUND' },
    });
    expect(await state()).toEqual(before);
  });

  it('a write whose row the user could not see afterwards is rolled back (WITH CHECK)', async () => {
    const before = await state();
    // s1 may only see customers with a credit limit over 300 or contact Mike.
    const hidden = await as(
      's1',
      'mutation { createCustomer(input: { id: "LOWCR", companyName: "Low", creditLimit: 100 }) { id } }',
    );
    expect(hidden.errors?.[0]).toMatchObject({
      message: 'This Customer would not be visible to you after the change; nothing was written',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const lowered = await as(
      's1',
      'mutation { updateCustomer(id: "CRWNF", input: { creditLimit: 10 }) { id } }',
    );
    expect(lowered.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await state()).toEqual(before);
  });

  it('a visible insert by a sales user is stamped with its tenant and region', async () => {
    const result = await as(
      's1',
      'mutation { createCustomer(input: { id: "HICRD", companyName: "High", creditLimit: 900 }) { id } }',
    );
    expect(result.errors).toBeUndefined();
    expect(await sqlRow(`select client_id, region from customer where id = 'HICRD'`)).toEqual({
      client_id: 2,
      region: 'British Isles',
    });
  });

  it('a manager may raise a department’s security level; a tenant may not write a shared row at all', async () => {
    expect(
      (await as('u2', 'mutation { updateDepartment(id: 3, input: { securityLevel: 1 }) { id } }')).errors,
    ).toBeUndefined();
    const before = await state();
    const tenant = await as(
      'aneu',
      'mutation { updateDepartment(id: 2, input: { securityLevel: 1 }) { id } }',
    );
    expect(tenant.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await state()).toEqual(before);
  });

  it('shared rows are read-only to every tenant: no create, update or delete of what all tenants read', async () => {
    const before = await state();
    for (const mutation of [
      'mutation { createShipper(input: { companyName: "Mine" }) { id } }',
      'mutation { updateShipper(id: 1, input: { companyName: "Mine" }) { id } }',
      'mutation { deleteShipper(id: 1) }',
      'mutation { updateSupplier(id: 1, input: { companyName: "Mine" }) { id } }',
      'mutation { deleteEmployee(id: 1) }',
    ]) {
      const result = await as('u1', mutation);
      expect(
        result.errors?.map((error) => error.extensions?.code),
        mutation,
      ).toEqual(['FORBIDDEN']);
    }
    // Still readable by all of them.
    expect((await as('u1', '{ shippers(limit: 1) { companyName } }')).data).toEqual({
      shippers: [{ companyName: expect.any(String) }],
    });
    expect(await state()).toEqual(before);
  });
});

describe('fail closed', () => {
  it('a filter that reads an attribute the user lacks matches no rows', async () => {
    const result = await as('noclient', '{ customersCount categoriesCount shippersCount }');
    expect(result.data).toEqual({
      customersCount: 0,
      categoriesCount: 0,
      shippersCount: Number((await sqlRow('select count(*) from shipper')).count),
    });
  });
});
