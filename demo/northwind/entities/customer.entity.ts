import { Collection } from '@mikro-orm/core';
import { Entity, Index, OneToMany } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { FloatColumn, IntColumn, NaturalId, StringColumn } from '../../../src/index.js';
import { Order } from './order.entity.js';

@Entity()
// A tenant's customers by name: its first page is an index range, however many customers it holds.
@Index({ properties: ['clientId', 'companyName'] })
@ObjectType({ description: 'A customer of a tenant, identified by a short code such as ALFKI' })
export class Customer {
  @NaturalId({ length: 16 })
  id!: string;

  @StringColumn({ length: 80 })
  companyName!: string;

  @StringColumn({ nullable: true, length: 60 })
  contactName?: string | null;

  @StringColumn({ nullable: true, length: 60 })
  contactTitle?: string | null;

  @StringColumn({ nullable: true, length: 120 })
  address?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  city?: string | null;

  @StringColumn({ nullable: true, length: 40, index: true })
  region?: string | null;

  @StringColumn({ nullable: true, length: 20 })
  postalCode?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  country?: string | null;

  @StringColumn({ nullable: true, length: 30 })
  phone?: string | null;

  @FloatColumn({ nullable: true })
  balance?: number | null;

  @FloatColumn({ nullable: true })
  creditLimit?: number | null;

  @IntColumn({ nullable: true, index: true, description: 'The tenant that owns the row' })
  clientId?: number | null;

  @OneToMany(() => Order, (order) => order.customer)
  orders = new Collection<Order>(this);
}
