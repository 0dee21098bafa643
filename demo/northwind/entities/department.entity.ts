import { Collection, type Rel } from '@mikro-orm/core';
import { Entity, OneToMany } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { GeneratedId, IntColumn, StringColumn, ToOne } from '../../../src/index.js';
import { Employee } from './employee.entity.js';

@Entity()
@ObjectType({ description: 'A department in a hierarchy; securityLevel above 0 marks a restricted one' })
export class Department {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 60 })
  departmentName!: string;

  @IntColumn({ default: 0, index: true })
  securityLevel!: number;

  @ToOne(() => Department, { nullable: true })
  parent?: Rel<Department> | null;

  @OneToMany(() => Department, (department) => department.parent)
  children = new Collection<Department>(this);

  @OneToMany(() => Employee, (employee) => employee.worksForDepartment)
  employees = new Collection<Employee>(this);
}
