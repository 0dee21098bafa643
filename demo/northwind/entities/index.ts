import 'reflect-metadata';
import { Category } from './category.entity.js';
import { Customer } from './customer.entity.js';
import { Department } from './department.entity.js';
import { Employee } from './employee.entity.js';
import { OrderDetail } from './order-detail.entity.js';
import { Order } from './order.entity.js';
import { Product } from './product.entity.js';
import { Shipper } from './shipper.entity.js';
import { Supplier } from './supplier.entity.js';

/**
 * Every entity the gateway serves. Adding a class here is all it takes to give it the whole
 * GraphQL API (list, by id, count, create, update, delete, nested relations): see src/api/.
 */
export const entities: (new () => object)[] = [
  Category,
  Customer,
  Department,
  Employee,
  Supplier,
  Shipper,
  Product,
  Order,
  OrderDetail,
];

export { Category, Customer, Department, Employee, Order, OrderDetail, Product, Shipper, Supplier };
