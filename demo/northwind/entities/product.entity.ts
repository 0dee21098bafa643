import { type Rel } from '@mikro-orm/core';
import { Entity } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { Category } from './category.entity.js';
import {
  BooleanColumn,
  FloatColumn,
  GeneratedId,
  IntColumn,
  StringColumn,
  ToOne,
} from '../../../src/index.js';
import { Supplier } from './supplier.entity.js';

@Entity()
@ObjectType({ description: 'A product that can be ordered' })
export class Product {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 80 })
  productName!: string;

  @FloatColumn()
  unitPrice!: number;

  @IntColumn({ default: 0 })
  unitsInStock!: number;

  @BooleanColumn({ default: false, index: true })
  discontinued!: boolean;

  @ToOne(() => Category, { nullable: true })
  category?: Rel<Category> | null;

  @ToOne(() => Supplier, { nullable: true })
  supplier?: Rel<Supplier> | null;
}
