import 'reflect-metadata';
import { type Rel } from '@mikro-orm/core';
import { Entity } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import {
  BooleanColumn,
  DateTimeColumn,
  declareSecurity,
  FloatColumn,
  GeneratedId,
  IntColumn,
  NaturalId,
  StringColumn,
  ToOne,
} from '../../src/index.js';
import { type OwnDomainSpec } from '../helpers/own-domain.js';

/**
 * The CRUD tests' own domain: a tool rental's renters, depots, workers, makers, tools, rentals and
 * rental lines. Each entity brings a kind of key or column a write treats apart: a natural string key
 * (renters), generated integer keys (the rest), a self-reference (a depot's parent, a worker's
 * supervisor), optional to-one links (some to a natural key) and required ones (a rental line's),
 * date-times, booleans, and defaults the database fills (an int, a boolean, a float). Written as a
 * domain is, with the engine's public entry (src/index.ts) alone.
 */

@Entity()
@ObjectType()
export class Renter {
  @NaturalId({ length: 16 })
  id!: string;

  @StringColumn({ length: 80 })
  name!: string;

  @StringColumn({ nullable: true, length: 40 })
  city?: string | null;

  @StringColumn({ nullable: true, length: 30 })
  phone?: string | null;

  @FloatColumn({ nullable: true })
  deposit?: number | null;

  @IntColumn({ nullable: true })
  toolLimit?: number | null;
}

@Entity()
@ObjectType()
export class Depot {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 60 })
  name!: string;

  @StringColumn({ nullable: true, length: 1000 })
  notes?: string | null;

  @IntColumn({ default: 0 })
  bays!: number;

  @ToOne(() => Depot, { nullable: true })
  parent?: Rel<Depot> | null;
}

@Entity()
@ObjectType()
export class Worker {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  firstName!: string;

  @StringColumn({ length: 40 })
  lastName!: string;

  @StringColumn({ nullable: true, length: 60 })
  title?: string | null;

  @FloatColumn({ nullable: true })
  wage?: number | null;

  @ToOne(() => Depot, { nullable: true })
  depot?: Rel<Depot> | null;

  @ToOne(() => Worker, { nullable: true })
  supervisor?: Rel<Worker> | null;
}

@Entity()
@ObjectType()
export class Maker {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 80 })
  name!: string;

  @StringColumn({ nullable: true, length: 40 })
  country?: string | null;

  @StringColumn({ nullable: true, length: 30 })
  phone?: string | null;
}

@Entity()
@ObjectType()
export class Tool {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 80 })
  name!: string;

  @FloatColumn()
  dailyRate!: number;

  @IntColumn({ default: 0 })
  stock!: number;

  @BooleanColumn({ default: false })
  retired!: boolean;

  @ToOne(() => Depot, { nullable: true })
  depot?: Rel<Depot> | null;

  @ToOne(() => Maker, { nullable: true })
  maker?: Rel<Maker> | null;
}

@Entity()
@ObjectType()
export class Rental {
  @GeneratedId()
  id!: number;

  @DateTimeColumn({ nullable: true })
  startsAt?: Date | null;

  @DateTimeColumn({ nullable: true })
  returnedAt?: Date | null;

  @FloatColumn({ nullable: true })
  deposit?: number | null;

  @ToOne(() => Renter, { nullable: true })
  renter?: Rel<Renter> | null;

  @ToOne(() => Worker, { nullable: true })
  worker?: Rel<Worker> | null;
}

@Entity()
@ObjectType()
export class RentalLine {
  @GeneratedId()
  id!: number;

  @FloatColumn()
  rate!: number;

  @IntColumn()
  days!: number;

  @FloatColumn({ default: 0 })
  discount!: number;

  @ToOne(() => Rental, { nullable: false })
  rental!: Rel<Rental>;

  @ToOne(() => Tool, { nullable: false })
  tool!: Rel<Tool>;
}

export const crudDomain: OwnDomainSpec = {
  name: 'crud',
  entities: [Renter, Depot, Worker, Maker, Tool, Rental, RentalLine],
  // Every row is every tenant's: these tests are about writes and reads, not about who sees what.
  policy: declareSecurity(({ sharedByAllTenants }) =>
    sharedByAllTenants(Renter, Depot, Worker, Maker, Tool, Rental, RentalLine),
  ),
  // Two rows of each, for the created rows to link to and the updates to link to instead. Generated
  // keys are left to the database (1 and 2, in this order), so the rows a test adds get the next.
  seed(em) {
    const anna = em.create(Renter, { id: 'ANNA', name: 'Anna Berg', city: 'Bergen' });
    const bruno = em.create(Renter, { id: 'BRUNO', name: 'Bruno Lind', city: 'Malmo' });
    const mainYard = em.create(Depot, { name: 'Main yard', bays: 8 });
    const northShed = em.create(Depot, { name: 'North shed', bays: 2, parent: mainYard });
    const ines = em.create(Worker, { firstName: 'Ines', lastName: 'Holm', depot: mainYard });
    const jon = em.create(Worker, { firstName: 'Jon', lastName: 'Dahl', depot: northShed, supervisor: ines });
    const hammerworks = em.create(Maker, { name: 'Hammerworks', country: 'Sweden' });
    const sawAndSons = em.create(Maker, { name: 'Saw & Sons', country: 'Denmark' });
    const drill = em.create(Tool, {
      name: 'Drill',
      dailyRate: 9,
      stock: 3,
      retired: false,
      depot: mainYard,
      maker: hammerworks,
    });
    const ladder = em.create(Tool, {
      name: 'Ladder',
      dailyRate: 5,
      stock: 1,
      retired: false,
      depot: northShed,
      maker: sawAndSons,
    });
    const first = em.create(Rental, {
      startsAt: new Date('2026-01-05T09:00:00Z'),
      renter: anna,
      worker: ines,
    });
    const second = em.create(Rental, {
      startsAt: new Date('2026-01-12T09:00:00Z'),
      renter: bruno,
      worker: jon,
    });
    em.create(RentalLine, { rate: 9, days: 2, discount: 0, rental: first, tool: drill });
    em.create(RentalLine, { rate: 5, days: 1, discount: 0, rental: second, tool: ladder });
  },
};
