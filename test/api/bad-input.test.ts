import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateCustomerDocument,
  type CreateCustomerMutationVariables,
  CreateOrderDetailDocument,
  CreateOrderDocument,
  DeleteCategoryDocument,
  DeleteCustomerDocument,
  DeleteOrderDocument,
  GetCustomerDocument,
  GetOrderDocument,
  ListCustomersDocument,
  UpdateCustomerDocument,
  UpdateOrderDetailDocument,
  UpdateProductDocument,
} from '../../demo/northwind/__generated__/graphql.js';
import { databaseFingerprint } from '../helpers/database-fingerprint.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

const databaseState = () => databaseFingerprint(t.db.sql);

/** Nothing a client sees may reveal the database: SQL, constraint or column names, stack traces. */
function expectNothingInternal(
  errors: readonly { message: string; extensions?: Record<string, unknown> }[] | undefined,
) {
  for (const error of errors ?? []) {
    expect(error.extensions?.stacktrace).toBeUndefined();
    expect(error.message).not.toMatch(
      /select |insert |update "|delete from|constraint|_foreign|_pkey|violates|column "/i,
    );
  }
}

describe('ids that do not exist or are malformed', () => {
  it('by id: an absent row is null, not an error', async () => {
    const result = await t.execute(GetCustomerDocument, { id: 'NOPE0' });
    expect(result).toEqual({ data: { customer: null } });
  });

  it('by id: a malformed integer id is BAD_USER_INPUT', async () => {
    const result = await t.execute(GetOrderDocument, { id: 'abc' });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toBe('id must be an integer id of Order (got "abc")');
  });

  it.each([
    ['update', UpdateCustomerDocument, { id: 'NOPE0', input: { companyName: 'x' } }, 'updateCustomer'],
    ['delete', DeleteCustomerDocument, { id: 'NOPE0' }, 'deleteCustomer'],
    ['delete (integer key)', DeleteOrderDocument, { id: '999999' }, 'deleteOrder'],
  ] as const)(
    '%s of an absent row is NOT_FOUND and writes nothing',
    async (_verb, document, variables, field) => {
      const before = await databaseState();
      const result = await t.execute(document as never, variables as never);
      expect(result.data).toBeNull();
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' }, path: [field] });
      expect(result.errors?.[0]?.message).toMatch(/^(Customer "NOPE0"|Order 999999) not found$/);
      expect(await databaseState()).toEqual(before);
    },
  );
});

describe('foreign keys to rows that do not exist', () => {
  it('create with an unknown customerId is NOT_FOUND and inserts nothing', async () => {
    const before = await databaseState();
    const result = await t.execute(CreateOrderDocument, { input: { customerId: 'NOPE0', freight: 3 } });
    expect(result.errors?.[0]).toMatchObject({
      message: 'Customer "NOPE0" not found (customerId)',
      extensions: { code: 'NOT_FOUND' },
    });
    expect(await databaseState()).toEqual(before);
  });

  it('update with an unknown categoryId is NOT_FOUND and leaves the row as it was', async () => {
    const before = await databaseState();
    const result = await t.execute(UpdateProductDocument, {
      id: '1',
      input: { productName: 'Renamed', categoryId: '424242' },
    });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(await databaseState()).toEqual(before);
  });

  it('a malformed foreign key is BAD_USER_INPUT', async () => {
    const result = await t.execute(CreateOrderDetailDocument, {
      input: { orderId: 'one', productId: '1', unitPrice: 1, quantity: 1 },
    });
    expect(result.errors?.[0]).toMatchObject({
      message: 'orderId must be an integer id of Order (got "one")',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('a required relation cannot be set to null', async () => {
    const before = await databaseState();
    const result = await t.execute(UpdateOrderDetailDocument, { id: '1', input: { orderId: null } });
    expect(result.errors?.[0]).toMatchObject({
      message: 'OrderDetail.orderId cannot be null',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await databaseState()).toEqual(before);
  });
});

describe('values the database would refuse', () => {
  it('a duplicate natural key is BAD_USER_INPUT and the existing row is untouched', async () => {
    const before = await databaseState();
    const result = await t.execute(CreateCustomerDocument, {
      input: { id: 'ALFKI', companyName: 'Impostor Ltd' },
    });
    expect(result.errors?.[0]).toMatchObject({
      message: 'A Customer with the same id already exists',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expectNothingInternal(result.errors);
    expect(await databaseState()).toEqual(before);
  });

  it('deleting a row others refer to is BAD_USER_INPUT and deletes nothing', async () => {
    const before = await databaseState();
    const result = await t.execute(DeleteCustomerDocument, { id: 'ALFKI' });
    expect(result.errors?.[0]).toMatchObject({
      message: 'This Customer cannot be deleted while other rows refer to it',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expectNothingInternal(result.errors);
    expect(await databaseState()).toEqual(before);
  });

  it.each([
    ['null for a required field', { companyName: null }, 'Customer.companyName cannot be null'],
    [
      'a string longer than its column',
      { city: 'x'.repeat(41) },
      'Customer.city must be at most 40 characters long',
    ],
  ])('update with %s is BAD_USER_INPUT', async (_case, input, message) => {
    const before = await databaseState();
    const result = await t.execute(UpdateCustomerDocument, { id: 'ALFKI', input });
    expect(result.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    expect(await databaseState()).toEqual(before);
  });

  it('an empty natural key is BAD_USER_INPUT', async () => {
    const result = await t.execute(CreateCustomerDocument, { input: { id: '', companyName: 'Nameless' } });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('wrong types and bad operators', () => {
  it('a variable of the wrong type is BAD_USER_INPUT before anything runs', async () => {
    const result = await t.executeCountingSql(ListCustomersDocument, { limit: 'ten' as unknown as number });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/Int cannot represent non-integer value/);
    expect(result.statements).toEqual([]);
  });

  it('a create input without a required field is BAD_USER_INPUT', async () => {
    const result = await t.execute(CreateCustomerDocument, {
      input: { id: 'NEW01' } as CreateCustomerMutationVariables['input'],
    });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/companyName/);
  });

  it.each([
    ['an operator the type does not have', '{ products(where: { discontinued: { like: "x" } }) { id } }'],
    ['a field the entity does not have', '{ customers(where: { password: { eq: "x" } }) { id } }'],
    ['a literal of the wrong type', '{ customers(limit: "ten") { id } }'],
  ])('a document with %s fails validation and runs no SQL', async (_case, query) => {
    const result = await t.executeCountingSql(parse(query) as never);
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.statements).toEqual([]);
  });

  it.each([
    [{ region: { eq: null } }, 'region.eq must not be null; use isNull to test for null'],
    [{ region: { isNull: null } }, 'region.isNull must be true or false'],
    [{ region: null }, 'region must be an operator object such as { eq: … }'],
    [
      { id: { in: Array.from({ length: 1001 }, (_, i) => `C${i}`) } },
      'id.in takes at most 1000 values (got 1001)',
    ],
  ])('where %# is BAD_USER_INPUT', async (where, message) => {
    const result = await t.executeCountingSql(ListCustomersDocument, { where: where as never });
    expect(result.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.statements).toEqual([]);
  });

  it('where nested too deeply is BAD_USER_INPUT', async () => {
    let where: Record<string, unknown> = { id: { eq: 'ALFKI' } };
    for (let level = 0; level < 10; level++) where = { NOT: where };
    const result = await t.execute(ListCustomersDocument, { where });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toMatch(/at most 8 levels/);
  });
});

describe('unexpected failures', () => {
  it('a database error is INTERNAL_SERVER_ERROR with a generic message', async () => {
    // PostgreSQL refuses NUL characters in text; GraphQL strings may contain them.
    const result = await t.execute(ListCustomersDocument, { where: { companyName: { eq: 'a\u0000b' } } });
    expect(result.errors?.[0]).toEqual({
      message: 'Internal server error',
      locations: expect.any(Array),
      path: expect.any(Array),
      // The request id finds the error's detail in the log.
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
    });
    expectNothingInternal(result.errors);
  });
});

/**
 * A refusal caused by other rows (a key taken, rows referring to a deleted one) tells a tenant no more
 * than that the write cannot be made when those rows are not the tenant's: the same words as any
 * refused write, naming no key, row or constraint. Among the caller's own rows it may say what collided.
 */
describe('refusals caused by rows the caller cannot see', () => {
  const notSaved = (entity: string, verb: string) => ({
    message: `This ${entity} could not be ${verb}; nothing was written`,
    extensions: { code: 'BAD_USER_INPUT' },
  });
  const customerOf = async (clientId: number) =>
    (
      (await t.db.sql.query('select id from customer where client_id = $1 order by id limit 1', [clientId]))
        .rows[0] as { id: string }
    ).id;

  it("a key another tenant's row holds is refused like any write, and names nothing", async () => {
    const u1 = await t.callerFor('u1');
    const theirs = await customerOf(2);
    const before = await databaseState();
    const taken = await t.execute(
      CreateCustomerDocument,
      { input: { id: theirs, companyName: 'Probe' } },
      u1,
    );
    expect(taken.errors).toEqual([expect.objectContaining(notSaved('Customer', 'saved'))]);
    expect(JSON.stringify(taken.errors)).not.toContain(theirs);
    expect(await databaseState()).toEqual(before);
    // A key of the caller's own tenant may say what collided.
    const own = await t.execute(
      CreateCustomerDocument,
      { input: { id: await customerOf(1), companyName: 'Again' } },
      u1,
    );
    expect(own.errors).toEqual([
      expect.objectContaining({
        message: 'A Customer with the same id already exists',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    expect(await databaseState()).toEqual(before);
  });

  it('a row only rows the caller cannot see refer to is refused like any write, and is kept', async () => {
    const u1 = await t.callerFor('u1');
    // A category of u1's tenant whose one product is discontinued: hidden from tenants.
    const {
      rows: [category],
    } = await t.db.sql.query<{ id: number }>(
      `insert into category (category_name, client_id) values ('Probe', 1) returning id`,
    );
    await t.db.sql.query(
      `insert into product (product_name, unit_price, discontinued, category_id) values ('Old', 1, true, $1)`,
      [category!.id],
    );
    const before = await databaseState();
    const hidden = await t.execute(DeleteCategoryDocument, { id: String(category!.id) }, u1);
    expect(hidden.errors).toEqual([expect.objectContaining(notSaved('Category', 'deleted'))]);
    expect(await databaseState()).toEqual(before);
    // Once a product the caller sees refers to it too, the refusal may say so.
    await t.db.sql.query(
      `insert into product (product_name, unit_price, discontinued, category_id) values ('New', 1, false, $1)`,
      [category!.id],
    );
    const visible = await t.execute(DeleteCategoryDocument, { id: String(category!.id) }, u1);
    expect(visible.errors).toEqual([
      expect.objectContaining({
        message: 'This Category cannot be deleted while other rows refer to it',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
  });
});
