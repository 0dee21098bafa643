import { Entity } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { GeneratedId, StringColumn } from '../../../src/index.js';

@Entity()
@ObjectType({ description: 'A shipping company that delivers orders' })
export class Shipper {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 80 })
  companyName!: string;

  @StringColumn({ nullable: true, length: 30 })
  phone?: string | null;
}
