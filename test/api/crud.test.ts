import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownDomain } from '../helpers/own-domain.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { crudDomain } from './crud-domain.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ empty: true, prepare: true, domain: await ownDomain(crudDomain) });
});
afterAll(() => t?.close());

type Row = Record<string, unknown>;
type AnyDocument = TypedDocumentNode<Row, Row>;

/**
 * One row per entity: what its operations select, a valid create input (links point at seeded rows),
 * an update, and the table and columns where the values must land. Expectations on the database are
 * read with plain SQL, not through the gateway.
 */
interface CrudCase {
  entity: string;
  plural: string;
  table: string;
  /** What every operation selects: the columns, and each link by its id. */
  fields: string;
  /** A natural key is a string the create input gives; a generated one an integer the database picks. */
  naturalKey: boolean;
  createInput: Row;
  updateInput: Row;
  /** Column values expected after create, then after update. */
  createdColumns: Row;
  updatedColumns: Row;
}

const cases: CrudCase[] = [
  {
    // A natural string key; an int set at create is kept by an update of other columns.
    entity: 'Renter',
    plural: 'renters',
    table: 'renter',
    naturalKey: true,
    fields: 'id name city phone deposit toolLimit',
    createInput: { id: 'ZARA', name: 'Zara Quinn', city: 'Oslo', deposit: 410.5, toolLimit: 3 },
    updateInput: { phone: '555-0142', deposit: 99 },
    createdColumns: { name: 'Zara Quinn', city: 'Oslo', deposit: 410.5, tool_limit: 3, phone: null },
    updatedColumns: { name: 'Zara Quinn', deposit: 99, phone: '555-0142', tool_limit: 3 },
  },
  {
    // A self-reference set at create and cleared by an update; an int default; a string set to null.
    entity: 'Depot',
    plural: 'depots',
    table: 'depot',
    naturalKey: false,
    fields: 'id name notes bays parent { id }',
    createInput: { name: 'Harbour yard', notes: 'Opens at six', parentId: '1' },
    updateInput: { name: 'Harbour depot', notes: null, bays: 3, parentId: null },
    createdColumns: { name: 'Harbour yard', notes: 'Opens at six', bays: 0, parent_id: 1 },
    updatedColumns: { name: 'Harbour depot', notes: null, bays: 3, parent_id: null },
  },
  {
    // Two optional links, one a self-reference an update moves to another row.
    entity: 'Worker',
    plural: 'workers',
    table: 'worker',
    naturalKey: false,
    fields: 'id firstName lastName title wage depot { id } supervisor { id }',
    createInput: { firstName: 'Noa', lastName: 'Berg', wage: 51000, depotId: '2', supervisorId: '2' },
    updateInput: { title: 'Team Lead', supervisorId: '1' },
    createdColumns: { first_name: 'Noa', wage: 51000, depot_id: 2, supervisor_id: 2, title: null },
    updatedColumns: { first_name: 'Noa', title: 'Team Lead', depot_id: 2, supervisor_id: 1 },
  },
  {
    // Only strings, optional ones left out at create.
    entity: 'Maker',
    plural: 'makers',
    table: 'maker',
    naturalKey: false,
    fields: 'id name country phone',
    createInput: { name: 'Fjord Tools', country: 'Norway' },
    updateInput: { phone: '(555) 123-4567' },
    createdColumns: { name: 'Fjord Tools', country: 'Norway', phone: null },
    updatedColumns: { name: 'Fjord Tools', phone: '(555) 123-4567' },
  },
  {
    // An int and a boolean default; an update clears one link and leaves the other.
    entity: 'Tool',
    plural: 'tools',
    table: 'tool',
    naturalKey: false,
    fields: 'id name dailyRate stock retired depot { id } maker { id }',
    createInput: { name: 'Hedge trimmer', dailyRate: 12.25, depotId: '2', makerId: '2' },
    updateInput: { retired: true, stock: 4, depotId: null },
    createdColumns: { name: 'Hedge trimmer', daily_rate: 12.25, stock: 0, retired: false, depot_id: 2 },
    updatedColumns: { retired: true, stock: 4, depot_id: null, maker_id: 2 },
  },
  {
    // Date-times; a link to a natural key an update moves to another row.
    entity: 'Rental',
    plural: 'rentals',
    table: 'rental',
    naturalKey: false,
    fields: 'id startsAt returnedAt deposit renter { id } worker { id }',
    createInput: { startsAt: '2026-02-03T10:00:00.000Z', deposit: 12.5, renterId: 'BRUNO', workerId: '2' },
    updateInput: { returnedAt: '2026-02-05T08:30:00.000Z', renterId: 'ANNA' },
    createdColumns: {
      starts_at: new Date('2026-02-03T10:00:00.000Z'),
      deposit: 12.5,
      renter_id: 'BRUNO',
      worker_id: 2,
      returned_at: null,
    },
    updatedColumns: { renter_id: 'ANNA', returned_at: new Date('2026-02-05T08:30:00.000Z') },
  },
  {
    // Two required links; a float default.
    entity: 'RentalLine',
    plural: 'rentalLines',
    table: 'rental_line',
    naturalKey: false,
    fields: 'id rate days discount rental { id } tool { id }',
    createInput: { rentalId: '2', toolId: '1', rate: 8, days: 3 },
    updateInput: { days: 5, discount: 0.1 },
    createdColumns: { rental_id: 2, tool_id: 1, rate: 8, days: 3, discount: 0 },
    updatedColumns: { days: 5, discount: 0.1 },
  },
];

/** The operations of the generic API a case's entity gets, each selecting its `fields`. */
function crudDocuments({ entity, plural, fields }: CrudCase) {
  const document = (text: string) => parse(text) as AnyDocument;
  return {
    list: document(`query ($where: ${entity}Where) {
      ${plural}(where: $where) { ${fields} }
      ${plural}Count(where: $where)
    }`),
    get: document(`query ($id: ID!) { ${lowerFirst(entity)}(id: $id) { ${fields} } }`),
    create: document(`mutation ($input: ${entity}CreateInput!) {
      create${entity}(input: $input) { ${fields} }
    }`),
    update: document(`mutation ($id: ID!, $input: ${entity}UpdateInput!) {
      update${entity}(id: $id, input: $input) { ${fields} }
    }`),
    remove: document(`mutation ($id: ID!) { delete${entity}(id: $id) }`),
  };
}

const rootField = (result: { data?: Row | null }, field: string) => (result.data as Row)[field] as Row;
function lowerFirst(name: string) {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/**
 * Checks that `answer` shows each of `input`'s values: a link given as `<link>Id` is answered as
 * `<link> { id }` (no scalar of this domain ends in Id, so the suffix tells a link).
 */
function expectAnswered(answer: Row, input: Row) {
  for (const [field, value] of Object.entries(input)) {
    if (field.endsWith('Id')) expect((answer[field.slice(0, -2)] as Row | null)?.id ?? null).toEqual(value);
    else expect(answer[field]).toEqual(value);
  }
}

describe.each(cases)('CRUD of $entity', (c) => {
  const { list, get, create, update, remove } = crudDocuments(c);
  const selectRow = async (id: unknown) =>
    (await t.db.sql.query(`select * from "${c.table}" where id = $1`, [id])).rows[0] as Row | undefined;
  const countRows = async () =>
    Number((await t.db.sql.query(`select count(*) from "${c.table}"`)).rows[0].count);

  it('creates, reads, lists, counts, updates and deletes one row, and the database follows', async () => {
    const rowsBefore = await countRows();

    const created = await t.execute(create, { input: c.createInput });
    expect(created.errors).toBeUndefined();
    const row = rootField(created, `create${c.entity}`);
    const id = row.id as string;
    expect(typeof id).toBe('string');
    expectAnswered(row, c.createInput);
    expect(await selectRow(id)).toMatchObject(c.createdColumns);

    const fetched = await t.execute(get, { id });
    expect(rootField(fetched, lowerFirst(c.entity))).toEqual(row);

    const listed = await t.execute(list, { where: { id: { eq: c.naturalKey ? id : Number(id) } } });
    expect(listed.errors).toBeUndefined();
    expect((listed.data as Row)[c.plural]).toEqual([row]);
    expect((listed.data as Row)[`${c.plural}Count`]).toBe(1);

    const updated = await t.execute(update, { id, input: c.updateInput });
    expect(updated.errors).toBeUndefined();
    expect(await selectRow(id)).toMatchObject(c.updatedColumns);
    expectAnswered(rootField(updated, `update${c.entity}`), c.updateInput);

    const deleted = await t.execute(remove, { id });
    expect(deleted).toEqual({ data: { [`delete${c.entity}`]: true } });
    expect(await selectRow(id)).toBeUndefined();
    expect(rootField(await t.execute(get, { id }), lowerFirst(c.entity))).toBeNull();
    expect(await countRows()).toBe(rowsBefore);
  });
});
