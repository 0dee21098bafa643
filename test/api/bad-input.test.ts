import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseFingerprint } from '../helpers/database-fingerprint.js';
import { ownDomain } from '../helpers/own-domain.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { BAD_INPUT_TABLES, badInputDomain } from './bad-input-domain.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ empty: true, prepare: true, domain: await ownDomain(badInputDomain) });
});
afterAll(() => t?.close());

const databaseState = () => databaseFingerprint(t.db.sql, BAD_INPUT_TABLES);

type Row = Record<string, unknown>;
type Document<Variables extends Row> = TypedDocumentNode<Record<string, Row | null>, Variables>;
const document = <Variables extends Row>(text: string) => parse(text) as Document<Variables>;

/** The operations of the API each entity gets, selecting the id alone. */
const byId = (field: string) => document<{ id: string }>(`query ($id: ID!) { ${field}(id: $id) { id } }`);
const create = (entity: string) =>
  document<{ input: Row }>(
    `mutation ($input: ${entity}CreateInput!) { create${entity}(input: $input) { id } }`,
  );
const update = (entity: string) =>
  document<{ id: string; input: Row }>(
    `mutation ($id: ID!, $input: ${entity}UpdateInput!) { update${entity}(id: $id, input: $input) { id } }`,
  );
const remove = (entity: string) =>
  document<{ id: string }>(`mutation ($id: ID!) { delete${entity}(id: $id) }`);

const GetShop = byId('shop');
const GetPurchase = byId('purchase');
const CreateShop = create('Shop');
const CreatePurchase = create('Purchase');
const CreatePurchaseLine = create('PurchaseLine');
const UpdateShop = update('Shop');
const UpdateItem = update('Item');
const UpdatePurchaseLine = update('PurchaseLine');
const DeleteShop = remove('Shop');
const DeletePurchase = remove('Purchase');
const DeleteShelf = remove('Shelf');
const ListShops = document<{ where?: Row; limit?: number }>(
  'query ($where: ShopWhere, $limit: Int) { shops(where: $where, limit: $limit) { id } }',
);

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
    const result = await t.execute(GetShop, { id: 'NOPE0' });
    expect(result).toEqual({ data: { shop: null } });
  });

  it('by id: a malformed integer id is BAD_USER_INPUT', async () => {
    const result = await t.execute(GetPurchase, { id: 'abc' });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toBe('id must be an integer id of Purchase (got "abc")');
  });

  it.each([
    ['update', UpdateShop, { id: 'NOPE0', input: { name: 'x' } }, 'updateShop'],
    ['delete', DeleteShop, { id: 'NOPE0' }, 'deleteShop'],
    ['delete (integer key)', DeletePurchase, { id: '999999' }, 'deletePurchase'],
  ] as const)(
    '%s of an absent row is NOT_FOUND and writes nothing',
    async (_verb, document, variables, field) => {
      const before = await databaseState();
      const result = await t.execute(document as never, variables as never);
      expect(result.data).toBeNull();
      expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' }, path: [field] });
      expect(result.errors?.[0]?.message).toMatch(/^(Shop "NOPE0"|Purchase 999999) not found$/);
      expect(await databaseState()).toEqual(before);
    },
  );
});

describe('foreign keys to rows that do not exist', () => {
  it('create with an unknown shopId is NOT_FOUND and inserts nothing', async () => {
    const before = await databaseState();
    const result = await t.execute(CreatePurchase, { input: { shopId: 'NOPE0', amount: 3 } });
    expect(result.errors?.[0]).toMatchObject({
      message: 'Shop "NOPE0" not found (shopId)',
      extensions: { code: 'NOT_FOUND' },
    });
    expect(await databaseState()).toEqual(before);
  });

  it('update with an unknown shelfId is NOT_FOUND and leaves the row as it was', async () => {
    const before = await databaseState();
    const result = await t.execute(UpdateItem, {
      id: '1',
      input: { name: 'Renamed', shelfId: '424242' },
    });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    expect(await databaseState()).toEqual(before);
  });

  it('a malformed foreign key is BAD_USER_INPUT', async () => {
    const result = await t.execute(CreatePurchaseLine, {
      input: { purchaseId: 'one', itemId: '1', price: 1, quantity: 1 },
    });
    expect(result.errors?.[0]).toMatchObject({
      message: 'purchaseId must be an integer id of Purchase (got "one")',
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('a required relation cannot be set to null', async () => {
    const before = await databaseState();
    const result = await t.execute(UpdatePurchaseLine, { id: '1', input: { purchaseId: null } });
    expect(result.errors?.[0]).toMatchObject({
      message: 'PurchaseLine.purchaseId cannot be null',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await databaseState()).toEqual(before);
  });
});

describe('values the database would refuse', () => {
  it('a duplicate natural key is BAD_USER_INPUT and the existing row is untouched', async () => {
    const before = await databaseState();
    const result = await t.execute(CreateShop, { input: { id: 'S1', name: 'Impostor Ltd' } });
    expect(result.errors?.[0]).toMatchObject({
      message: 'A Shop with the same id already exists',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expectNothingInternal(result.errors);
    expect(await databaseState()).toEqual(before);
  });

  it('deleting a row others refer to is BAD_USER_INPUT and deletes nothing', async () => {
    const before = await databaseState();
    const result = await t.execute(DeleteShop, { id: 'S1' });
    expect(result.errors?.[0]).toMatchObject({
      message: 'This Shop cannot be deleted while other rows refer to it',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expectNothingInternal(result.errors);
    expect(await databaseState()).toEqual(before);
  });

  it.each([
    ['null for a required field', { name: null }, 'Shop.name cannot be null'],
    [
      'a string longer than its column',
      { city: 'x'.repeat(41) },
      'Shop.city must be at most 40 characters long',
    ],
  ])('update with %s is BAD_USER_INPUT', async (_case, input, message) => {
    const before = await databaseState();
    const result = await t.execute(UpdateShop, { id: 'S1', input });
    expect(result.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    expect(await databaseState()).toEqual(before);
  });

  it('an empty natural key is BAD_USER_INPUT', async () => {
    const result = await t.execute(CreateShop, { input: { id: '', name: 'Nameless' } });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('wrong types and bad operators', () => {
  it('a variable of the wrong type is BAD_USER_INPUT before anything runs', async () => {
    const result = await t.executeCountingSql(ListShops, { limit: 'ten' as unknown as number });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/Int cannot represent non-integer value/);
    expect(result.statements).toEqual([]);
  });

  it('a create input without a required field is BAD_USER_INPUT', async () => {
    const result = await t.execute(CreateShop, { input: { id: 'NEW01' } });
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(result.errors?.[0]?.message).toMatch(/"name"/);
  });

  it.each([
    ['an operator the type does not have', '{ items(where: { discontinued: { like: "x" } }) { id } }'],
    ['a field the entity does not have', '{ shops(where: { password: { eq: "x" } }) { id } }'],
    ['a literal of the wrong type', '{ shops(limit: "ten") { id } }'],
  ])('a document with %s fails validation and runs no SQL', async (_case, query) => {
    const result = await t.executeCountingSql(parse(query) as never);
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(result.statements).toEqual([]);
  });

  it.each([
    [{ area: { eq: null } }, 'area.eq must not be null; use isNull to test for null'],
    [{ area: { isNull: null } }, 'area.isNull must be true or false'],
    [{ area: null }, 'area must be an operator object such as { eq: … }'],
    [
      { id: { in: Array.from({ length: 1001 }, (_, i) => `C${i}`) } },
      'id.in takes at most 1000 values (got 1001)',
    ],
  ])('where %# is BAD_USER_INPUT', async (where, message) => {
    const result = await t.executeCountingSql(ListShops, { where });
    expect(result.errors?.[0]).toMatchObject({ message, extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.statements).toEqual([]);
  });

  it('where nested too deeply is BAD_USER_INPUT', async () => {
    let where: Row = { id: { eq: 'S1' } };
    for (let level = 0; level < 10; level++) where = { NOT: where };
    const result = await t.execute(ListShops, { where });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toMatch(/at most 8 levels/);
  });
});

describe('unexpected failures', () => {
  it('a database error is INTERNAL_SERVER_ERROR with a generic message', async () => {
    // A column the gateway knows and the database no longer has: an error no input causes.
    await t.db.sql.query('alter table shop rename column name to name_gone');
    const result = await t
      .execute(ListShops, { where: { name: { eq: 'x' } } })
      .finally(() => t.db.sql.query('alter table shop rename column name_gone to name'));
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
  const shopOf = async (clientId: number) =>
    (
      (await t.db.sql.query('select id from shop where client_id = $1 order by id limit 1', [clientId]))
        .rows[0] as { id: string }
    ).id;

  it("a key another tenant's row holds is refused like any write, and names nothing", async () => {
    const u1 = await t.callerFor('u1');
    const theirs = await shopOf(2);
    const before = await databaseState();
    const taken = await t.execute(CreateShop, { input: { id: theirs, name: 'Probe' } }, u1);
    expect(taken.errors).toEqual([expect.objectContaining(notSaved('Shop', 'saved'))]);
    expect(JSON.stringify(taken.errors)).not.toContain(theirs);
    expect(await databaseState()).toEqual(before);
    // A key of the caller's own tenant may say what collided.
    const own = await t.execute(CreateShop, { input: { id: await shopOf(1), name: 'Again' } }, u1);
    expect(own.errors).toEqual([
      expect.objectContaining({
        message: 'A Shop with the same id already exists',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
    expect(await databaseState()).toEqual(before);
  });

  it('a row only rows the caller cannot see refer to is refused like any write, and is kept', async () => {
    const u1 = await t.callerFor('u1');
    // A shelf of u1's tenant whose one item is discontinued: hidden from tenants.
    const {
      rows: [shelf],
    } = await t.db.sql.query<{ id: number }>(
      `insert into shelf (name, client_id) values ('Probe', 1) returning id`,
    );
    await t.db.sql.query(
      `insert into item (name, price, discontinued, shelf_id) values ('Old', 1, true, $1)`,
      [shelf!.id],
    );
    const before = await databaseState();
    const hidden = await t.execute(DeleteShelf, { id: String(shelf!.id) }, u1);
    expect(hidden.errors).toEqual([expect.objectContaining(notSaved('Shelf', 'deleted'))]);
    expect(await databaseState()).toEqual(before);
    // Once an item the caller sees refers to it too, the refusal may say so.
    await t.db.sql.query(
      `insert into item (name, price, discontinued, shelf_id) values ('New', 1, false, $1)`,
      [shelf!.id],
    );
    const visible = await t.execute(DeleteShelf, { id: String(shelf!.id) }, u1);
    expect(visible.errors).toEqual([
      expect.objectContaining({
        message: 'This Shelf cannot be deleted while other rows refer to it',
        extensions: { code: 'BAD_USER_INPUT' },
      }),
    ]);
  });
});
