import 'reflect-metadata';
import { type Rel } from '@mikro-orm/core';
import { Entity } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import { describe, expect, it } from 'vitest';
import { buildEntityModels, pluralize } from '../../src/api/entity-model.js';
import { GeneratedId, IntColumn, TextColumn } from '../../src/model/columns.js';
import { ToOne } from '../../src/model/relations.js';
import { discoverMetadata } from '../engine/fixtures.js';

/**
 * The names of the generated root fields, on entities of this file: distinct and predictable where
 * plurals collide (an uncountable `staff`, `person`/`people` beside an entity `People`), and the key
 * arguments of a composite key.
 */

@Entity({ tableName: 'names_staff' })
@ObjectType()
class Staff {
  @GeneratedId()
  id!: number;

  @TextColumn()
  name!: string;
}

@Entity({ tableName: 'names_person' })
@ObjectType()
class Person {
  @GeneratedId()
  id!: number;
}

@Entity({ tableName: 'names_people' })
@ObjectType()
class People {
  @GeneratedId()
  id!: number;
}

@Entity({ tableName: 'names_staff_shift' })
@ObjectType()
class StaffShift {
  @ToOne(() => Staff, { nullable: false, primary: true })
  staff!: Rel<Staff>;

  @IntColumn({ primary: true })
  day!: number;

  @TextColumn({ primary: true })
  slot!: string;
}

describe('pluralize', () => {
  it.each([
    ['category', 'categories'],
    ['orderDetail', 'orderDetails'],
    ['address', 'addresses'],
    ['staff', 'staff'],
    ['staffMember', 'staffMembers'],
    ['person', 'people'],
    ['salesPerson', 'salesPeople'],
    ['child', 'children'],
    ['series', 'series'],
    ['analysis', 'analyses'],
    ['personDemographics', 'personDemographics'],
    ['vpersondemographics', 'vpersondemographics'],
  ])('%s → %s', (word, plural) => {
    expect(pluralize(word)).toBe(plural);
  });
});

describe('root field names', () => {
  const models = buildEntityModels(discoverMetadata([Staff, Person, People, StaffShift]), [
    Staff,
    Person,
    People,
    StaffShift,
  ]);
  const names = Object.fromEntries(models.map((model) => [model.name, [model.singular, model.plural]]));

  it('are the singular and the plural, or <singular>List where the plural is a by-key field', () => {
    expect(names).toEqual({
      Staff: ['staff', 'staffList'],
      Person: ['person', 'personList'],
      People: ['people', 'peoples'],
      StaffShift: ['staffShift', 'staffShifts'],
    });
    const fields = models.flatMap((model) => [model.singular, model.plural, `${model.plural}Count`]);
    expect(new Set(fields).size).toBe(fields.length);
  });

  it('address a single key by id, a composite one by an argument per key column', () => {
    const key = (name: string) =>
      models.find((model) => model.name === name)!.key.map(({ argument, kind }) => [argument, kind]);
    expect(key('Staff')).toEqual([['id', 'Int']]);
    expect(key('StaffShift')).toEqual([
      ['staffId', 'Int'],
      ['day', 'Int'],
      ['slot', 'String'],
    ]);
  });
});
