import { Collection, type Rel } from '@mikro-orm/core';
import { Entity, Index, OneToMany } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { DateTimeColumn, FloatColumn, GeneratedId, StringColumn, ToOne } from '../../../src/index.js';
import { Customer } from './customer.entity.js';
import { Employee } from './employee.entity.js';
import { OrderDetail } from './order-detail.entity.js';
import { Shipper } from './shipper.entity.js';

@Entity()
// A customer's latest orders: read in date order from the index, not sorted per customer.
@Index({ properties: ['customer', 'orderDate'] })
@ObjectType({ description: 'A customer order' })
export class Order {
  @GeneratedId()
  id!: number;

  @DateTimeColumn({ nullable: true })
  orderDate?: Date | null;

  @DateTimeColumn({ nullable: true })
  shippedDate?: Date | null;

  @FloatColumn({ nullable: true })
  freight?: number | null;

  @StringColumn({ nullable: true, length: 80 })
  shipName?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  shipCity?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  shipRegion?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  shipCountry?: string | null;

  @FloatColumn({ nullable: true })
  amountTotal?: number | null;

  @ToOne(() => Customer, { nullable: true })
  customer?: Rel<Customer> | null;

  @ToOne(() => Employee, { nullable: true })
  employee?: Rel<Employee> | null;

  @ToOne(() => Shipper, { nullable: true })
  shipVia?: Rel<Shipper> | null;

  @OneToMany(() => OrderDetail, (detail) => detail.order)
  details = new Collection<OrderDetail>(this);
}
