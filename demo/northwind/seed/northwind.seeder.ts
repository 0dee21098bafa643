import { type EntityManager, type EntityName } from '@mikro-orm/core';
import { type SqlEntityManager } from '@mikro-orm/postgresql';
import { Seeder } from '@mikro-orm/seeder';
import {
  Category,
  Customer,
  Department,
  Employee,
  entities,
  Order,
  OrderDetail,
  Product,
  Shipper,
  Supplier,
} from '../entities/index.js';
import {
  buildCustomer,
  buildOrder,
  buildReferenceData,
  customerCount,
  type CustomerRow,
  FIXED_CUSTOMERS,
  orderCount,
  type OrderDetailRow,
  type OrderRow,
  Random,
} from './demo-data.js';

/** PostgreSQL takes at most 65,535 bind parameters per statement; stay well below it. */
const PARAMETERS_PER_STATEMENT = 30_000;
const SEED = 20_261_123;

export interface SeedContext {
  /** 1 is the demo (about Northwind's size); N writes N times the customers, orders and order lines. */
  scale: number;
}

/**
 * Writes the demo data set with multi-row inserts. Explicit ids keep the data deterministic (and let
 * order lines refer to their orders without a round trip); the id sequences are moved past them at the end.
 */
export class NorthwindSeeder extends Seeder<SeedContext> {
  async run(em: EntityManager, context: SeedContext = { scale: 1 }): Promise<void> {
    const random = new Random(SEED);
    const reference = buildReferenceData(random);
    await insertInBatches(em, Shipper, reference.shippers);
    await insertInBatches(em, Supplier, reference.suppliers);
    await insertInBatches(em, Category, reference.categories);
    await insertInBatches(em, Product, reference.products);
    // Parents come before children in both lists, so self-references resolve row by row.
    await insertInBatches(em, Department, reference.departments);
    await insertInBatches(em, Employee, reference.employees);

    const customers: Pick<CustomerRow, 'id' | 'region' | 'city' | 'country' | 'companyName'>[] = [];
    const customerBatch: CustomerRow[] = [];
    for (let index = 0; index < customerCount(context.scale); index++) {
      const customer = buildCustomer(random, index);
      customers.push(customer);
      customerBatch.push(customer);
      if (customerBatch.length >= 5_000) await insertInBatches(em, Customer, customerBatch.splice(0));
    }
    await insertInBatches(em, Customer, customerBatch);

    let nextDetailId = 1;
    const orders: OrderRow[] = [];
    const details: OrderDetailRow[] = [];
    for (let orderId = 1; orderId <= orderCount(context.scale); orderId++) {
      // The first orders go to the hand-placed customers, so each of them has some.
      const customer =
        orderId <= FIXED_CUSTOMERS.length * 2
          ? customers[(orderId - 1) % FIXED_CUSTOMERS.length]!
          : random.pick(customers);
      const built = buildOrder(random, reference, orderId, customer, nextDetailId);
      nextDetailId += built.details.length;
      orders.push(built.order);
      details.push(...built.details);
      if (details.length >= 20_000) {
        await insertInBatches(em, Order, orders.splice(0));
        await insertInBatches(em, OrderDetail, details.splice(0));
      }
    }
    await insertInBatches(em, Order, orders);
    await insertInBatches(em, OrderDetail, details);
    await moveSequencesPastSeededIds(em);
  }
}

async function insertInBatches<T extends object>(em: EntityManager, entity: EntityName<T>, rows: object[]) {
  if (rows.length === 0) return;
  const perRow = Object.keys(rows[0]!).length;
  const batchSize = Math.max(1, Math.floor(PARAMETERS_PER_STATEMENT / perRow));
  for (let start = 0; start < rows.length; start += batchSize) {
    await em.insertMany(entity, rows.slice(start, start + batchSize) as T[]);
  }
}

async function moveSequencesPastSeededIds(em: EntityManager) {
  for (const entity of entities) {
    const meta = em.getMetadata(entity);
    const primaryKey = meta.getPrimaryProps()[0]!;
    if (!primaryKey.autoincrement) continue;
    const table = `"${meta.tableName}"`;
    const column = primaryKey.fieldNames[0]!;
    // Through the EntityManager, so it runs inside the seeding transaction and sees its rows.
    await (em as SqlEntityManager).execute(
      `select setval(pg_get_serial_sequence('${table}', '${column}'), coalesce((select max("${column}") from ${table}), 0) + 1, false)`,
    );
  }
}
