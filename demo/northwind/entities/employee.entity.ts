import { Collection, type Rel } from '@mikro-orm/core';
import { Entity, OneToMany } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { FloatColumn, GeneratedId, StringColumn, ToOne } from '../../../src/index.js';
import { Department } from './department.entity.js';
import { Order } from './order.entity.js';

@Entity()
@ObjectType({ description: 'An employee of the company' })
export class Employee {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  lastName!: string;

  @StringColumn({ length: 40 })
  firstName!: string;

  @StringColumn({ nullable: true, length: 60 })
  title?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  city?: string | null;

  @StringColumn({ nullable: true, length: 40, index: true })
  region?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  country?: string | null;

  @FloatColumn({ nullable: true })
  salary?: number | null;

  @ToOne(() => Department, { nullable: true })
  worksForDepartment?: Rel<Department> | null;

  @ToOne(() => Employee, { nullable: true })
  reportsTo?: Rel<Employee> | null;

  @OneToMany(() => Order, (order) => order.employee)
  orders = new Collection<Order>(this);
}
