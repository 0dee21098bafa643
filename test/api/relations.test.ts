import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CategoryProductsDocument,
  CustomerOrderTreeDocument,
  CustomersWithRecentOrdersDocument,
  DepartmentTreeDocument,
  OrderDetailsUpwardDocument,
} from '../../demo/northwind/__generated__/graphql.js';
import { signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
  // The first statement of a new pool also checks the database exists; keep it out of the counts.
  await t.execute(CustomerOrderTreeDocument, { limit: 1 });
});
afterAll(() => t?.close());

async function sqlRows<T = Record<string, unknown>>(query: string): Promise<T[]> {
  return (await t.db.sql.query(query)).rows as T[];
}

describe('no N+1: one statement per root field, whatever the depth and the number of rows', () => {
  it.each([1, 5, 25])(
    'customers(limit: %i) { orders { details { product { category } } } }',
    async (limit) => {
      const result = await t.executeCountingSql(CustomerOrderTreeDocument, { limit });
      expect(result.errors).toBeUndefined();
      const customers = result.data!.customers;
      const [total] = await sqlRows<{ count: string }>('select count(*) from customer');
      expect(customers).toHaveLength(Math.min(limit, Number(total!.count)));
      const details = customers.flatMap((c) => c.orders.flatMap((o) => o.details));
      if (limit === 25) expect(details.length).toBeGreaterThan(500);
      // customers, orders, order lines, products, categories: five levels, one statement, in which
      // each level is its own table's select (a correlated subquery), never a join.
      expect(result.statements).toHaveLength(1);
      expect(result.statements[0]!.match(/from "(\w+)"/g)!.sort()).toEqual([
        'from "category"',
        'from "customer"',
        'from "order"',
        'from "order_detail"',
        'from "product"',
      ]);
      expect(result.statements[0]).not.toMatch(/\bjoin\b/);
    },
  );

  it('returns the same tree SQL builds with joins', async () => {
    const result = await t.execute(CustomerOrderTreeDocument, { limit: 25 });
    const fromGateway = result.data!.customers.flatMap((c) =>
      c.orders.flatMap((o) =>
        o.details.map((d) => [c.id, o.id, d.id, d.product?.id, d.product?.category?.id].join('/')),
      ),
    );
    const expected = await sqlRows<{ path: string }>(`
      select concat_ws('/', c.id, o.id, d.id, p.id, p.category_id) as path
      from (select id from customer order by id limit 25) c
      join "order" o on o.customer_id = c.id
      join order_detail d on d.order_id = o.id
      join product p on p.id = d.product_id
      order by c.id, o.id, d.id`);
    expect(fromGateway).toEqual(expected.map((row) => row.path));
  });

  it('reads the to-one direction in the same statement too', async () => {
    const result = await t.executeCountingSql(OrderDetailsUpwardDocument, { limit: 500 });
    expect(result.errors).toBeUndefined();
    // order lines, their orders, customers, employees, departments and parent departments: one statement.
    expect(result.statements).toHaveLength(1);
    const first = result.data!.orderDetails[0]!;
    const [expected] = await sqlRows<{ order_id: number; customer_id: string; client_id: number | null }>(
      `select d.order_id, o.customer_id, c.client_id from order_detail d join "order" o on o.id = d.order_id
       left join customer c on c.id = o.customer_id where d.id = ${first.id}`,
    );
    expect(first.order).toMatchObject({
      id: String(expected!.order_id),
      customer: { id: expected!.customer_id, clientId: expected!.client_id },
    });
  });
});

describe('nested to-many arguments apply per parent', () => {
  it('limit, offset and orderBy select each customer’s own most recent orders, in one statement', async () => {
    const customerWhere = { id: { in: ['ALFKI', 'ANATR', 'BRIMK'] } };
    const result = await t.executeCountingSql(CustomersWithRecentOrdersDocument, {
      customerWhere,
      orderLimit: 2,
      orderOffset: 1,
    });
    expect(result.errors).toBeUndefined();
    expect(result.statements).toHaveLength(1); // customers, their orders, and the orders' customer
    for (const customer of result.data!.customers) {
      const expected = await sqlRows<{ id: number }>(
        `select id from "order" where customer_id = '${customer.id}' order by order_date desc, id asc limit 2 offset 1`,
      );
      expect(customer.orders.map((o) => o.id)).toEqual(expected.map((row) => String(row.id)));
      expect(customer.orders.every((o) => o.customer?.id === customer.id)).toBe(true);
    }
  });

  it('where filters the children, not the parents', async () => {
    const result = await t.execute(CategoryProductsDocument, {
      productWhere: { discontinued: { eq: true } },
    });
    const categories = result.data!.categories;
    expect(categories).toHaveLength((await sqlRows('select id from category')).length);
    const products = categories.flatMap((c) => c.products);
    expect(products.every((p) => p.discontinued)).toBe(true);
    expect(products.map((p) => p.id).sort()).toEqual(
      (await sqlRows<{ id: number }>('select id from product where discontinued and category_id is not null'))
        .map((row) => String(row.id))
        .sort(),
    );
  });

  it('self-references resolve in both directions', async () => {
    const result = await t.execute(DepartmentTreeDocument, {});
    expect(result.errors).toBeUndefined();
    const [root] = result.data!.departments;
    const children = await sqlRows<{ id: number }>(
      'select id from department where parent_id = 1 order by id',
    );
    expect(root!.children.map((d) => d.id)).toEqual(children.map((row) => String(row.id)));
    for (const child of root!.children) {
      expect(child.parent?.id).toBe(root!.id);
      const grandChildren = await sqlRows<{ id: number }>(
        `select id from department where parent_id = ${child.id} order by id`,
      );
      expect(child.children.map((d) => d.id)).toEqual(grandChildren.map((row) => String(row.id)));
    }
    const employeesWithManager = root!.children.flatMap((d) => d.employees).filter((e) => e.reportsTo);
    expect(employeesWithManager.length).toBeGreaterThan(0);
  });

  it('a nested limit above 1000 is refused like a top-level one', async () => {
    const result = await t.execute(CustomersWithRecentOrdersDocument, { orderLimit: 1001 });
    expect(result.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    expect(result.errors?.[0]?.message).toMatch(/limit must be between 0 and 1000/);
  });
});

describe("a to-many relation's count", () => {
  const USERS = ['aneu', 'u1', 'u2', 'sam', 's1', 'r1', 'ALFKI', 'ANATR', 'p1'];
  type Counted = {
    customers: {
      orders: { freight: number | null }[];
      ordersCount: number;
      large: number;
    }[];
    categories: { products: unknown[]; productsCount: number }[];
  };
  const document = parse(`{
    customers(limit: 200) { orders(limit: 200) { freight } ordersCount large: ordersCount(where: { freight: { gt: 50 } }) }
    categories(limit: 100) { products(limit: 200) { id } productsCount } }`) as TypedDocumentNode<
    Counted,
    Record<string, never>
  >;

  it('counts exactly the rows its list holds, for every user, with and without where, in the same statement', async () => {
    const caller = await signIn(t, USERS);
    for (const user of USERS) {
      const result = await t.executeCountingSql(document, {}, caller(user));
      expect(result.errors, user).toBeUndefined();
      // Two root fields, two statements: the counts are read with their parents' rows.
      expect(result.statements, user).toHaveLength(2);
      const { customers, categories } = result.data!;
      expect(customers.length, user).toBeGreaterThan(0);
      for (const customer of customers) {
        expect(customer.ordersCount).toBe(customer.orders.length);
        expect(customer.large).toBe(customer.orders.filter((order) => (order.freight ?? 0) > 50).length);
      }
      for (const category of categories) expect(category.productsCount).toBe(category.products.length);
    }
  });

  it("counts none of another tenant's rows: a tenant's customers' orders as SQL counts them", async () => {
    const result = await t.execute(document, {}, await t.callerFor('u1'));
    const [orders] = await sqlRows<{ count: string }>(
      `select count(*) from "order" o join customer c on c.id = o.customer_id where c.client_id = 1`,
    );
    const [all] = await sqlRows<{ count: string }>('select count(*) from "order"');
    const counted = result.data!.customers.reduce((sum, customer) => sum + customer.ordersCount, 0);
    expect(counted).toBe(Number(orders!.count));
    expect(counted).toBeLessThan(Number(all!.count));
  });
});
