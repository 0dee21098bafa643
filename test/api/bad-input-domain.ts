import 'reflect-metadata';
import { type Rel } from '@mikro-orm/core';
import { Entity } from '@mikro-orm/decorators/legacy';
import { ObjectType } from 'type-graphql';
import {
  BooleanColumn,
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
 * The input error tests' own domain: shops (a natural string key) with their purchases and purchase
 * lines (integer keys, an optional and two required relations), and shelves with their items. Two
 * tenants and one rule that hides rows (discontinued items), so a refusal caused by rows the caller
 * cannot see can be told from one caused by the caller's own. Written as a domain is, with the
 * engine's public entry (src/index.ts) alone.
 */

@Entity()
@ObjectType()
export class Shop {
  @NaturalId({ length: 16 })
  id!: string;

  @StringColumn({ length: 80 })
  name!: string;

  @StringColumn({ nullable: true, length: 40 })
  city?: string | null;

  @StringColumn({ nullable: true, length: 40 })
  area?: string | null;

  @IntColumn({ nullable: true, index: true })
  clientId?: number | null;
}

@Entity()
@ObjectType()
export class Purchase {
  @GeneratedId()
  id!: number;

  @FloatColumn({ nullable: true })
  amount?: number | null;

  @ToOne(() => Shop, { nullable: true })
  shop?: Rel<Shop> | null;
}

@Entity()
@ObjectType()
export class Shelf {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 40 })
  name!: string;

  @IntColumn({ nullable: true, index: true })
  clientId?: number | null;
}

@Entity()
@ObjectType()
export class Item {
  @GeneratedId()
  id!: number;

  @StringColumn({ length: 80 })
  name!: string;

  @FloatColumn()
  price!: number;

  @BooleanColumn({ default: false })
  discontinued!: boolean;

  @ToOne(() => Shelf, { nullable: true })
  shelf?: Rel<Shelf> | null;
}

@Entity()
@ObjectType()
export class PurchaseLine {
  @GeneratedId()
  id!: number;

  @FloatColumn()
  price!: number;

  @IntColumn()
  quantity!: number;

  @ToOne(() => Purchase, { nullable: false })
  purchase!: Rel<Purchase>;

  @ToOne(() => Item, { nullable: false })
  item!: Rel<Item>;
}

/** The tables whose rows the tests fingerprint before and after a refused write. */
export const BAD_INPUT_TABLES = ['shop', 'purchase', 'shelf', 'item', 'purchase_line'];

/** Shops S1 and S2 are tenant 1's, S3 tenant 2's; each has a purchase (ids 1 to 3) with a line. */
const SHOPS = [
  { id: 'S1', name: 'Corner Shop', city: 'Leeds', area: 'North', clientId: 1 },
  { id: 'S2', name: 'High Street', city: 'York', area: null, clientId: 1 },
  { id: 'S3', name: 'Harbour Store', city: 'Hull', area: 'East', clientId: 2 },
];

export const badInputDomain: OwnDomainSpec = {
  name: 'bad-input',
  entities: [Shop, Purchase, Shelf, Item, PurchaseLine],
  policy: declareSecurity(({ rolePermission, tenantFilter, scope, globalFilter }) => {
    rolePermission('tenant');
    tenantFilter('clientId', (user) => ({ clientId: user.clientId }), { rolesNotFiltered: ['sa'] });
    scope(Purchase, 'shop');
    scope(PurchaseLine, 'purchase');
    scope(Item, 'shelf');
    // A discontinued item is no tenant's to see: a row a tenant's write may run into unseen.
    globalFilter('discontinued', () => ({ discontinued: false }), { rolesNotFiltered: ['sa'] });
  }),
  // Generated keys are left to the database (1, 2, … in this order), so the rows a test adds get the next.
  seed(em) {
    const fruit = em.create(Shelf, { name: 'Fruit', clientId: 1 });
    em.create(Shelf, { name: 'Tools', clientId: 2 });
    const apple = em.create(Item, { name: 'Apple', price: 0.5, discontinued: false, shelf: fruit });
    SHOPS.forEach((row, i) => {
      const shop = em.create(Shop, row);
      const purchase = em.create(Purchase, { amount: 10 * (i + 1), shop });
      em.create(PurchaseLine, { price: 0.5, quantity: i + 1, purchase, item: apple });
    });
  },
  demoUsers: {
    users: [{ id: 'u1', name: 'User One', roles: ['tenant'], attributes: { clientId: 1 } }],
    loginAs: 'u1',
  },
};
