import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../../demo/northwind/__generated__/graphql.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

type AnyDocument = TypedDocumentNode<Record<string, unknown>, Record<string, unknown>>;
type Row = Record<string, unknown>;

/**
 * One row per entity: the operations, a valid create input (foreign keys point at seeded rows), an
 * update, and the table and columns where the values must land. Expectations on the database are
 * read with plain SQL, not through the gateway.
 */
interface CrudCase {
  entity: string;
  table: string;
  list: AnyDocument;
  get: AnyDocument;
  create: AnyDocument;
  update: AnyDocument;
  remove: AnyDocument;
  createInput: Row;
  updateInput: Row;
  /** Column values expected after create, then after update. */
  createdColumns: Row;
  updatedColumns: Row;
}

const doc = (document: unknown) => document as AnyDocument;

const cases: CrudCase[] = [
  {
    entity: 'Category',
    table: 'category',
    list: doc(ops.ListCategoriesDocument),
    get: doc(ops.GetCategoryDocument),
    create: doc(ops.CreateCategoryDocument),
    update: doc(ops.UpdateCategoryDocument),
    remove: doc(ops.DeleteCategoryDocument),
    createInput: { categoryName: 'Spices', description: 'Ground and whole', clientId: 2 },
    updateInput: { description: null, categoryName: 'Herbs' },
    createdColumns: { category_name: 'Spices', description: 'Ground and whole', client_id: 2 },
    updatedColumns: { category_name: 'Herbs', description: null, client_id: 2 },
  },
  {
    entity: 'Customer',
    table: 'customer',
    list: doc(ops.ListCustomersDocument),
    get: doc(ops.GetCustomerDocument),
    create: doc(ops.CreateCustomerDocument),
    update: doc(ops.UpdateCustomerDocument),
    remove: doc(ops.DeleteCustomerDocument),
    createInput: {
      id: 'ZZTOP',
      companyName: 'Zed Top Foods',
      region: 'Scandinavia',
      creditLimit: 410.5,
      clientId: 3,
    },
    updateInput: { contactName: 'Mike', creditLimit: 99 },
    createdColumns: {
      company_name: 'Zed Top Foods',
      region: 'Scandinavia',
      credit_limit: 410.5,
      contact_name: null,
    },
    updatedColumns: { company_name: 'Zed Top Foods', credit_limit: 99, contact_name: 'Mike' },
  },
  {
    entity: 'Department',
    table: 'department',
    list: doc(ops.ListDepartmentsDocument),
    get: doc(ops.GetDepartmentDocument),
    create: doc(ops.CreateDepartmentDocument),
    update: doc(ops.UpdateDepartmentDocument),
    remove: doc(ops.DeleteDepartmentDocument),
    createInput: { departmentName: 'Research', parentId: '1' },
    updateInput: { securityLevel: 3, parentId: null },
    createdColumns: { department_name: 'Research', security_level: 0, parent_id: 1 },
    updatedColumns: { department_name: 'Research', security_level: 3, parent_id: null },
  },
  {
    entity: 'Employee',
    table: 'employee',
    list: doc(ops.ListEmployeesDocument),
    get: doc(ops.GetEmployeeDocument),
    create: doc(ops.CreateEmployeeDocument),
    update: doc(ops.UpdateEmployeeDocument),
    remove: doc(ops.DeleteEmployeeDocument),
    createInput: {
      firstName: 'Noa',
      lastName: 'Berg',
      salary: 51000,
      worksForDepartmentId: '6',
      reportsToId: '5',
    },
    updateInput: { title: 'Team Lead', reportsToId: '2' },
    createdColumns: {
      first_name: 'Noa',
      salary: 51000,
      works_for_department_id: 6,
      reports_to_id: 5,
      title: null,
    },
    updatedColumns: { first_name: 'Noa', title: 'Team Lead', reports_to_id: 2 },
  },
  {
    entity: 'Supplier',
    table: 'supplier',
    list: doc(ops.ListSuppliersDocument),
    get: doc(ops.GetSupplierDocument),
    create: doc(ops.CreateSupplierDocument),
    update: doc(ops.UpdateSupplierDocument),
    remove: doc(ops.DeleteSupplierDocument),
    createInput: { companyName: 'Fjord Farms', country: 'Norway', region: 'Scandinavia' },
    updateInput: { city: 'Bergen' },
    createdColumns: { company_name: 'Fjord Farms', country: 'Norway', city: null },
    updatedColumns: { company_name: 'Fjord Farms', city: 'Bergen' },
  },
  {
    entity: 'Shipper',
    table: 'shipper',
    list: doc(ops.ListShippersDocument),
    get: doc(ops.GetShipperDocument),
    create: doc(ops.CreateShipperDocument),
    update: doc(ops.UpdateShipperDocument),
    remove: doc(ops.DeleteShipperDocument),
    createInput: { companyName: 'Night Owl Express' },
    updateInput: { phone: '(555) 123-4567' },
    createdColumns: { company_name: 'Night Owl Express', phone: null },
    updatedColumns: { company_name: 'Night Owl Express', phone: '(555) 123-4567' },
  },
  {
    entity: 'Product',
    table: 'product',
    list: doc(ops.ListProductsDocument),
    get: doc(ops.GetProductDocument),
    create: doc(ops.CreateProductDocument),
    update: doc(ops.UpdateProductDocument),
    remove: doc(ops.DeleteProductDocument),
    createInput: { productName: 'Black Garlic', unitPrice: 12.25, categoryId: '3', supplierId: '7' },
    updateInput: { discontinued: true, unitsInStock: 4, categoryId: null },
    createdColumns: {
      product_name: 'Black Garlic',
      unit_price: 12.25,
      units_in_stock: 0,
      discontinued: false,
      category_id: 3,
    },
    updatedColumns: { discontinued: true, units_in_stock: 4, category_id: null, supplier_id: 7 },
  },
  {
    entity: 'Order',
    table: 'order',
    list: doc(ops.ListOrdersDocument),
    get: doc(ops.GetOrderDocument),
    create: doc(ops.CreateOrderDocument),
    update: doc(ops.UpdateOrderDocument),
    remove: doc(ops.DeleteOrderDocument),
    createInput: {
      orderDate: '2026-02-03T10:00:00.000Z',
      freight: 12.5,
      customerId: 'ANATR',
      employeeId: '6',
      shipViaId: '2',
    },
    updateInput: { shippedDate: '2026-02-05T08:30:00.000Z', customerId: 'ALFKI' },
    createdColumns: {
      freight: 12.5,
      customer_id: 'ANATR',
      employee_id: 6,
      ship_via_id: 2,
      shipped_date: null,
    },
    updatedColumns: { customer_id: 'ALFKI', shipped_date: new Date('2026-02-05T08:30:00.000Z') },
  },
  {
    entity: 'OrderDetail',
    table: 'order_detail',
    list: doc(ops.ListOrderDetailsDocument),
    get: doc(ops.GetOrderDetailDocument),
    create: doc(ops.CreateOrderDetailDocument),
    update: doc(ops.UpdateOrderDetailDocument),
    remove: doc(ops.DeleteOrderDetailDocument),
    createInput: { orderId: '10', productId: '4', unitPrice: 8, quantity: 3 },
    updateInput: { quantity: 5, discount: 0.1 },
    createdColumns: { order_id: 10, product_id: 4, unit_price: 8, quantity: 3, discount: 0 },
    updatedColumns: { quantity: 5, discount: 0.1 },
  },
];

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

const rootField = (result: { data?: Row | null }, field: string) => (result.data as Row)[field] as Row;
const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

describe.each(cases)('CRUD of $entity', (c) => {
  const selectRow = async (id: unknown) =>
    (await t.db.sql.query(`select * from "${c.table}" where id = $1`, [id])).rows[0] as Row | undefined;

  it('creates, reads, lists, counts, updates and deletes one row, and the database follows', async () => {
    const rowsBefore = Number((await t.db.sql.query(`select count(*) from "${c.table}"`)).rows[0].count);

    const created = await t.execute(c.create, { input: c.createInput });
    expect(created.errors).toBeUndefined();
    const row = rootField(created, `create${c.entity}`);
    const id = row.id as string;
    expect(typeof id).toBe('string');
    for (const [field, value] of Object.entries(c.createInput)) {
      if (field.endsWith('Id') && field !== 'clientId') {
        expect((row[field.slice(0, -2)] as Row | null)?.id ?? null).toEqual(value);
      } else if (field !== 'id') {
        expect(row[field]).toEqual(value);
      }
    }
    expect(await selectRow(id)).toMatchObject(c.createdColumns);

    const fetched = await t.execute(c.get, { id });
    expect(rootField(fetched, lowerFirst(c.entity))).toEqual(row);

    const plural = Object.keys((await t.execute(c.list, { limit: 0 })).data as Row)[0]!;
    const listed = await t.execute(c.list, {
      where: { id: { eq: c.entity === 'Customer' ? id : Number(id) } },
    });
    expect(listed.errors).toBeUndefined();
    expect((listed.data as Row)[plural]).toEqual([row]);
    expect((listed.data as Row)[`${plural}Count`]).toBe(1);

    const updated = await t.execute(c.update, { id, input: c.updateInput });
    expect(updated.errors).toBeUndefined();
    expect(await selectRow(id)).toMatchObject(c.updatedColumns);
    const afterUpdate = rootField(updated, `update${c.entity}`);
    for (const [field, value] of Object.entries(c.updateInput)) {
      if (field.endsWith('Id'))
        expect((afterUpdate[field.slice(0, -2)] as Row | null)?.id ?? null).toEqual(value);
      else expect(afterUpdate[field]).toEqual(value);
    }

    const deleted = await t.execute(c.remove, { id });
    expect(deleted).toEqual({ data: { [`delete${c.entity}`]: true } });
    expect(await selectRow(id)).toBeUndefined();
    expect(rootField(await t.execute(c.get, { id }), lowerFirst(c.entity))).toBeNull();
    expect(Number((await t.db.sql.query(`select count(*) from "${c.table}"`)).rows[0].count)).toBe(
      rowsBefore,
    );
  });
});

describe('generated ids', () => {
  it('continue after the seeded rows instead of colliding with them', async () => {
    const maxSeeded = Number((await t.db.sql.query('select max(id) from shipper')).rows[0].max);
    const created = await t.execute(ops.CreateShipperDocument, { input: { companyName: 'Sequence Check' } });
    expect(created.errors).toBeUndefined();
    expect(Number(created.data?.createShipper.id)).toBeGreaterThan(maxSeeded);
  });
});
