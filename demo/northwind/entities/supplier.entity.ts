import { Collection } from '@mikro-orm/core';
import { Entity, OneToMany } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { GeneratedId, StringColumn } from '../../../src/index.js';
import { Product } from './product.entity.js';

@Entity()
@ObjectType({ description: 'A supplier of products' })
export class Supplier {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 80 })
  companyName!: string;

  @StringColumn({ nullable: true, length: 60 })
  contactName?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  city?: string | null;

  @StringColumn({ nullable: true, length: 40, index: true })
  region?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  country?: string | null;

  @OneToMany(() => Product, (product) => product.supplier)
  products = new Collection<Product>(this);
}
