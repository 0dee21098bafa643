import { type Rel } from '@mikro-orm/core';
import { Entity } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { FloatColumn, GeneratedId, IntColumn, ToOne } from '../../../src/index.js';
import { Order } from './order.entity.js';
import { Product } from './product.entity.js';

@Entity()
@ObjectType({ description: 'One line of an order' })
export class OrderDetail {
  @GeneratedId()
  id!: number;

  @FloatColumn()
  unitPrice!: number;

  @IntColumn()
  quantity!: number;

  @FloatColumn({ default: 0 })
  discount!: number;

  @FloatColumn({ nullable: true })
  amount?: number | null;

  @ToOne(() => Order, { nullable: false })
  order!: Rel<Order>;

  @ToOne(() => Product, { nullable: false })
  product!: Rel<Product>;
}
