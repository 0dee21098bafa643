import 'reflect-metadata';
import { Collection, type Rel } from '@mikro-orm/core';
import { Entity, OneToMany } from '@mikro-orm/decorators/legacy';
import { ObjectType, registerEnumType } from 'type-graphql';
import {
  BigIntColumn,
  DateColumn,
  DecimalColumn,
  declareSecurity,
  EnumColumn,
  FloatColumn,
  GeneratedId,
  IntColumn,
  NaturalId,
  StringColumn,
  ToOne,
} from '../../src/index.js';
import { type OwnDomainSpec } from '../helpers/own-domain.js';

/**
 * The aggregate and connection tests' own domain: a ledger's accounts and entries, with exact
 * decimals, bigints beyond 2^53, dates, an enum and floats, nulls and ties among them; and an entity
 * named `AccountGroup`, the name the group type of `Account` would take.
 */

export const Side = { DEBIT: 'debit', CREDIT: 'credit' } as const;
registerEnumType(Side, { name: 'Side' });

@Entity()
@ObjectType()
export class Account {
  @NaturalId({ length: 8 })
  id!: string;

  @StringColumn({ length: 40 })
  name!: string;

  @OneToMany(() => Entry, (entry) => entry.account)
  entries = new Collection<Entry>(this);
}

/** A table a real schema may well have beside `account`. */
@Entity()
@ObjectType()
export class AccountGroup {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  label!: string;
}

@Entity()
@ObjectType()
export class Entry {
  @GeneratedId()
  id!: number;

  @DecimalColumn({ precision: 14, scale: 2, nullable: true })
  amount?: string | null;

  @BigIntColumn({ nullable: true })
  units?: string | null;

  @IntColumn({ nullable: true })
  quantity?: number | null;

  @FloatColumn({ nullable: true })
  rate?: number | null;

  @DateColumn({ nullable: true })
  bookedOn?: string | null;

  @EnumColumn(Side, { nullable: true, nativeEnumName: 'side' })
  side?: string | null;

  @ToOne(() => Account, { nullable: true })
  account?: Rel<Account> | null;
}

const ACCOUNTS = ['CASH', 'BANK', 'LOAN', 'FEES'];

/** Amounts of cents that a double would not add exactly, bigints past 2^53, ties and nulls. */
export const ENTRIES = Array.from({ length: 90 }, (_, i) => ({
  amount: i % 9 === 8 ? null : `${(i % 7) * 1000}.${String((i % 3) * 10 + 1).padStart(2, '0')}`,
  units: i % 10 === 9 ? null : String(9007199254740993n + BigInt(i % 4)),
  quantity: i % 6 === 5 ? null : i % 5,
  rate: i % 8 === 7 ? null : (i % 4) * 0.1,
  bookedOn: i % 11 === 10 ? null : `2024-0${1 + (i % 6)}-${String(1 + (i % 27)).padStart(2, '0')}`,
  side: i % 12 === 11 ? null : i % 2 === 0 ? 'debit' : 'credit',
  account: i % 13 === 12 ? null : ACCOUNTS[i % ACCOUNTS.length]!,
}));

export const ledgerDomain: OwnDomainSpec = {
  name: 'ledger',
  entities: [Account, AccountGroup, Entry],
  // Every row is every tenant's: these tests are about the arithmetic and the pages.
  policy: declareSecurity(({ sharedByAllTenants }) => sharedByAllTenants(Account, AccountGroup, Entry)),
  seed(em) {
    for (const id of ACCOUNTS) em.create(Account, { id, name: `Account ${id}` });
    em.create(AccountGroup, { label: 'Assets' });
    for (const row of ENTRIES) em.create(Entry, row);
  },
};
