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
 * The where, orderBy and paging tests' own domain: a club's members, rooms and visits, with a column
 * of every scalar kind the operators treat apart (strings, floats, ints, booleans, date-times, string
 * and integer keys, to-one keys), nulls among them, and rows enough that each case selects some but
 * not all. Written as a domain is, with the engine's public entry (src/index.ts) alone.
 */

@Entity()
@ObjectType()
export class Member {
  @NaturalId({ length: 8 })
  id!: string;

  @StringColumn({ length: 80 })
  name!: string;

  @StringColumn({ nullable: true, length: 40 })
  nickname?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  team?: string | null;

  @FloatColumn({ nullable: true })
  score?: number | null;

  @FloatColumn({ nullable: true })
  balance?: number | null;

  @IntColumn({ nullable: true })
  level?: number | null;
}

@Entity()
@ObjectType()
export class Building {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  name!: string;
}

@Entity()
@ObjectType()
export class Room {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  name!: string;

  @FloatColumn()
  rate!: number;

  @BooleanColumn({ default: false })
  closed!: boolean;

  @ToOne(() => Building, { nullable: true })
  building?: Rel<Building> | null;
}

@Entity()
@ObjectType()
export class Visit {
  @GeneratedId()
  id!: number;

  @DateTimeColumn({ nullable: true })
  startedAt?: Date | null;

  @DateTimeColumn({ nullable: true })
  endedAt?: Date | null;

  @FloatColumn({ nullable: true })
  fee?: number | null;

  @ToOne(() => Member, { nullable: true })
  member?: Rel<Member> | null;

  @ToOne(() => Room, { nullable: true })
  room?: Rel<Room> | null;
}

// --- rows: each column cycles through its values at its own period, so the values mix. Generated
// keys are left to the database (1, 2, … in the order below), so a row a test adds gets the next one.

const NAMES = [
  'Alpine Foods',
  'Bright Goods',
  'Cedar foods',
  'Delta Works',
  'FOODS Depot',
  'Maple',
  'Zenith',
];

export const MEMBERS = Array.from({ length: 60 }, (_, i) => ({
  id: `M${String(i + 1).padStart(3, '0')}`,
  name: `${NAMES[i % NAMES.length]} ${i + 1}`,
  nickname: i % 5 === 0 ? null : i % 4 === 1 ? 'Mike' : `nick ${i + 1}`,
  team: [null, 'North', 'South', 'East'][i % 4],
  score: i % 6 === 5 ? null : [100, 200, 250, 300, 410.5, 500, 750][i % 7],
  balance: i % 9 === 0 ? null : (i * 137.25) % 2500,
  level: i % 8 === 7 ? null : 1 + (i % 3),
}));

const BUILDINGS = ['Old wing', 'New wing', 'Annex'];

/** Rooms by the index of their building (null: none). */
const ROOMS = Array.from({ length: 12 }, (_, i) => ({
  name: `Room ${i + 1}`,
  rate: 20 + i * 9.5,
  closed: i % 3 === 0,
  building: i % 4 === 0 ? null : i % BUILDINGS.length,
}));

const DAY = 86_400_000;

/** Every third day from 2024-01-01 (so 2025-01-01 itself is one); rooms by their index. */
export const VISITS = Array.from({ length: 240 }, (_, i) => {
  const startedAt = i % 10 === 9 ? null : new Date(Date.UTC(2024, 0, 1) + 3 * i * DAY);
  return {
    startedAt,
    endedAt: startedAt && i % 3 !== 0 ? new Date(startedAt.getTime() + DAY) : null,
    fee: i % 11 === 10 ? null : Math.round(((i * 7.3) % 120) * 100) / 100,
    member: i % 13 === 12 ? null : MEMBERS[(i * 7) % MEMBERS.length]!.id,
    room: i % 4 === 3 ? null : i % ROOMS.length,
  };
});

export const whereDomain: OwnDomainSpec = {
  name: 'where',
  entities: [Member, Building, Room, Visit],
  // Every row is every tenant's: these tests are about the operators, not about who sees what.
  policy: declareSecurity(({ sharedByAllTenants }) => sharedByAllTenants(Member, Building, Room, Visit)),
  seed(em) {
    for (const row of MEMBERS) em.create(Member, row);
    const buildings = BUILDINGS.map((name) => em.create(Building, { name }));
    const rooms = ROOMS.map(({ building, ...row }) =>
      em.create(Room, { ...row, building: building === null ? null : buildings[building] }),
    );
    for (const { room, ...row } of VISITS)
      em.create(Visit, { ...row, room: room === null ? null : rooms[room] });
  },
};
