import { Collection } from '@mikro-orm/core';
import { Entity, OneToMany } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { GeneratedId, IntColumn, StringColumn } from '../../../src/index.js';
import { Product } from './product.entity.js';

@Entity()
@ObjectType({ description: 'A product category, owned by a tenant' })
export class Category {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  categoryName!: string;

  @StringColumn({ nullable: true, length: 1000 })
  description?: string | null;

  @IntColumn({ nullable: true, index: true, description: 'The tenant that owns the row' })
  clientId?: number | null;

  @OneToMany(() => Product, (product) => product.category)
  products = new Collection<Product>(this);
}
