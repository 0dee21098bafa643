import 'reflect-metadata';
import { Collection, type Rel } from '@mikro-orm/core';
import { Entity, ManyToOne, OneToMany, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { declareSecurity, type SecurityDeclarations } from '../../security/system/policy.js';
import { dangerouslyBypassRowSecurity, restrictTo } from '../../security/system/row-security.js';
import { compileSecurityModel, type SecurityModel } from '../../security/system/security-model.js';
import { createOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The engine's own tiny domain, independent of the demo (Northwind) entities and of
 * any domain's declare-security.ts: a team that replaces the demo domain keeps these tests as they are.
 * Every type is explicit: nothing depends on emitted decorator metadata.
 *
 *   Account (tenant column clientId) ← Invoice (scope: account, nullable) ← Payment (scope: invoice)
 *   Payment.payer → Account is a second, unscoped relation; Country is shared; Note is covered by nothing.
 */

@Entity()
export class Account {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'integer', nullable: true, index: true })
  clientId?: number | null;

  @Property({ type: 'string', length: 80 })
  name!: string;

  @OneToMany(() => Invoice, (invoice) => invoice.account)
  invoices = new Collection<Invoice>(this);
}

@Entity()
export class Invoice {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Account, { nullable: true, index: true, deleteRule: 'restrict' })
  account?: Rel<Account> | null;

  @Property({ type: 'double' })
  total!: number;

  @Property({ type: 'boolean', default: false })
  archived: boolean = false;

  @OneToMany(() => Payment, (payment) => payment.invoice)
  payments = new Collection<Payment>(this);
}

@Entity()
export class Payment {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Invoice, { nullable: false, index: true, deleteRule: 'restrict' })
  invoice!: Rel<Invoice>;

  /** Who paid: a relation that is not the scope, so its ids must only match through visible accounts. */
  @ManyToOne(() => Account, { nullable: true, index: true, deleteRule: 'restrict' })
  payer?: Rel<Account> | null;

  @Property({ type: 'double' })
  amount!: number;
}

/** No tenant column, no scope, not shared: the entity a forgotten declaration leaves uncovered. */
@Entity()
export class Note {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'string', length: 200 })
  text!: string;
}

/** Read by every tenant. */
@Entity()
export class Country {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Property({ type: 'string', length: 80 })
  name!: string;
}

/** Two entities that point at each other, for a scope cycle. */
@Entity()
export class Ticket {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Reply, { nullable: true, index: true })
  lastReply?: Rel<Reply> | null;
}

@Entity()
export class Reply {
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Ticket, { nullable: false, index: true })
  ticket!: Rel<Ticket>;
}

/** A class that is not an entity. */
export class NotAnEntity {
  id!: number;
}

/** The entities of the database the scope tests run on. */
export const DATABASE_ENTITIES = [Account, Invoice, Payment, Country];

/**
 * The correct policy for DATABASE_ENTITIES:
 * - tenant filter `clientId == currentUser.clientId` (the superuser is exempt by its role alone);
 * - global filter `archived == false`, not for `auditor`;
 * - Invoice scoped through `account`, Payment through `invoice`; Country shared;
 * - grant Account to `owner`: `id == currentUser.accountId` (both layers carry it).
 */
export function declareFixtureRules(rules: SecurityDeclarations): void {
  rules.rolePermission(['tenant', 'owner', 'auditor', 'public'], { delete: false });
  rules.tenantFilter('clientId', (user) => ({ clientId: user.clientId }), { rolesNotFiltered: [] });
  rules.globalFilter('archived', () => ({ archived: false }), { rolesNotFiltered: ['auditor'] });
  rules.scope(Invoice, 'account');
  rules.scope(Payment, 'invoice');
  rules.sharedByAllTenants(Country);
  rules.grant(Account, 'owner', { filter: (user) => ({ id: user.accountId as number }) });
}

export const fixturePolicy = declareSecurity(declareFixtureRules);

/** The fixture policy plus `more`. */
export const fixturePolicyWith = (more: (rules: SecurityDeclarations) => void) =>
  declareSecurity((rules) => {
    declareFixtureRules(rules);
    more(rules);
  });

/** Entity metadata without a database: MikroORM's constructor discovers the entities without connecting. */
export function discoverMetadata(entities: (new () => object)[]) {
  return new MikroORM(
    createOrmOptions({
      clientUrl: 'postgres://127.0.0.1/metadata-only',
      queryLog: new QueryLog(pino({ level: 'silent' })),
      entities,
    }),
  ).getMetadata();
}

// --- rows ---------------------------------------------------------------------------------------

/** Tenants 1, 2 and 3, and an account of no tenant. */
export const ACCOUNTS = [
  { id: 1, clientId: 1, name: 'one-a' },
  { id: 2, clientId: 1, name: 'one-b' },
  { id: 3, clientId: 2, name: 'two-a' },
  { id: 4, clientId: null, name: 'nobody' },
  { id: 5, clientId: 3, name: 'three-a' },
];

/** Several invoices per account, archived ones, and invoices of no account (11, 12). */
export const INVOICES = [
  { id: 1, account: 1, archived: false },
  { id: 2, account: 1, archived: false },
  { id: 3, account: 1, archived: true },
  { id: 4, account: 2, archived: false },
  { id: 5, account: 2, archived: false },
  { id: 6, account: 3, archived: false },
  { id: 7, account: 3, archived: false },
  { id: 8, account: 3, archived: true },
  { id: 9, account: 4, archived: false },
  { id: 10, account: 5, archived: false },
  { id: 11, account: null, archived: false },
  { id: 12, account: null, archived: true },
];

/** Payments per invoice (invoice 4 has none); payer 3 (tenant 2) paid an invoice of tenant 1. */
const PAYMENTS_PER_INVOICE = [3, 2, 1, 0, 2, 3, 1, 2, 2, 1, 2, 1];
const PAYERS: Record<number, number> = { 1: 3, 2: 1, 9: 3 };

export const PAYMENTS = INVOICES.flatMap((invoice, i) =>
  Array.from({ length: PAYMENTS_PER_INVOICE[i]! }, () => invoice.id),
).map((invoice, i) => ({ id: i + 1, invoice, payer: PAYERS[i + 1] ?? null, amount: 10 * (i + 1) }));

export const COUNTRIES = [
  { id: 1, name: 'Atlantis' },
  { id: 2, name: 'Lemuria' },
];

// --- users --------------------------------------------------------------------------------------

const user = (id: string, roles: string[], attributes: Record<string, unknown>): AuthUser => ({
  id,
  roles,
  attributes,
});

/**
 * Who reads, and what SPEC §5 says each may see, written down by hand (not asked of the model):
 * `clientId` the tenant whose accounts are visible (null: none), `account` the one account a filtered
 * grant admits (in both layers), `superuser` every row,
 * `archived` whether archived invoices (and so their payments) are visible.
 */
export interface Sight {
  superuser: boolean;
  clientId: number | null;
  account: number | null;
  archived: boolean;
}

const sees = (sight: Partial<Sight>): Sight => ({
  superuser: false,
  clientId: null,
  account: null,
  archived: false,
  ...sight,
});

export const READERS: { label: string; user: AuthUser; sight: Sight }[] = [
  ...[
    ['tenant 1', user('t1', ['tenant'], { clientId: 1 }), sees({ clientId: 1 })],
    ['tenant 2', user('t2', ['tenant'], { clientId: 2 }), sees({ clientId: 2 })],
    // A user named sa without the role is an ordinary user.
    ['a user named sa of tenant 2', user('sa', ['tenant'], { clientId: 2 }), sees({ clientId: 2 })],
    ['no roles (public) of tenant 2', user('p2', [], { clientId: 2 }), sees({ clientId: 2 })],
    [
      'the auditor of tenant 1',
      user('aud', ['auditor'], { clientId: 1 }),
      sees({ clientId: 1, archived: true }),
    ],
    ['a user without clientId', user('nobody', ['tenant'], {}), sees({})],
    ['a user whose clientId is an array', user('multi', ['tenant'], { clientId: [1, 2] }), sees({})],
    ['a user whose clientId is an object', user('obj', ['tenant'], { clientId: { $ne: 0 } }), sees({})],
    // A role named like sa after a comma: no more than the tenant role beside it gives.
    [
      'roles ["tenant", "x,sa"] of tenant 2',
      user('comma', ['tenant', 'x,sa'], { clientId: 2 }),
      sees({ clientId: 2 }),
    ],
    ['the superuser', user('admin', ['sa'], {}), sees({ superuser: true })],
  ].map(([label, reader, sight]) => ({
    label: label as string,
    user: reader as AuthUser,
    sight: sight as Sight,
  })),
  {
    // The grant admits account 2 only, within the tenant filter.
    label: 'an owner of account 2 (tenant 1)',
    user: user('own', ['owner'], { clientId: 1, accountId: 2 }),
    sight: sees({ clientId: 1, account: 2 }),
  },
  {
    // Tenant and owner: the owner's filtered grant is the only term of the OR, so it narrows.
    label: 'a tenant who owns account 1',
    user: user('town', ['tenant', 'owner'], { clientId: 1, accountId: 1 }),
    sight: sees({ clientId: 1, account: 1 }),
  },
  {
    // An account of another tenant: the grant admits it, the tenant filter does not.
    label: 'an owner of another tenant’s account',
    user: user('own3', ['owner'], { clientId: 1, accountId: 3 }),
    sight: sees({ clientId: 1, account: 3 }),
  },
  {
    // A grant whose filter reads a missing attribute matches no row.
    label: 'an owner without accountId',
    user: user('own0', ['owner'], { clientId: 1 }),
    sight: sees({ clientId: 1, account: -1 }),
  },
];

export interface Visible {
  accounts: number[];
  invoices: number[];
  payments: number[];
  countries: number[];
}

/**
 * What SPEC §5 lets `sight` see, computed in SQL on the raw tables (as the PostgreSQL superuser, which
 * row-level security does not restrict): an account by its tenant (and grant), an invoice iff its
 * account is visible and it passes its own global filter, a payment iff its invoice is visible; a row
 * without a parent is the superuser's only. Countries are shared.
 */
export async function expectedVisible(db: TestDatabase, sight: Sight): Promise<Visible> {
  const { rows } = await db.sql.query<Visible>(
    `with accounts as (
       select id from account
        where $1 or (client_id = $2::int and ($3::int is null or id = $3::int))
     ), invoices as (
       select id from invoice
        where $1 or (account_id in (select id from accounts) and (not archived or $4))
     ), payments as (
       select id from payment where $1 or invoice_id in (select id from invoices)
     )
     select coalesce((select array_agg(id order by id) from accounts), '{}') as accounts,
            coalesce((select array_agg(id order by id) from invoices), '{}') as invoices,
            coalesce((select array_agg(id order by id) from payments), '{}') as payments,
            coalesce((select array_agg(id order by id) from country), '{}') as countries`,
    [sight.superuser, sight.clientId, sight.account, sight.archived],
  );
  return rows[0]!;
}

// --- the database -------------------------------------------------------------------------------

export interface FixtureDatabase {
  db: TestDatabase;
  orm: MikroORM;
  queryLog: QueryLog;
  model: SecurityModel;
  /** A fork whose every read is limited by the model to what `reader` may see. */
  forkFor(reader: AuthUser): ReturnType<MikroORM['em']['fork']>;
  close(): Promise<void>;
}

/** An empty database of its own with the fixture schema and rows, and the fixture policy compiled. */
export async function openFixtureDatabase(): Promise<FixtureDatabase> {
  const db = await createTestDatabase({ empty: true });
  const queryLog = new QueryLog(pino({ level: 'silent' }));
  const orm = await MikroORM.init(
    createOrmOptions({ clientUrl: db.url, queryLog, entities: DATABASE_ENTITIES }),
  );
  try {
    await orm.schema.create();
    const em = dangerouslyBypassRowSecurity(orm.em);
    for (const row of ACCOUNTS) em.create(Account, row);
    for (const row of INVOICES) em.create(Invoice, { ...row, total: 100 * row.id });
    for (const row of PAYMENTS) em.create(Payment, row);
    for (const row of COUNTRIES) em.create(Country, row);
    await em.flush();
  } catch (error) {
    await orm.close();
    await db.drop();
    throw error;
  }
  const model = compileSecurityModel(fixturePolicy, orm.getMetadata());
  return {
    db,
    orm,
    queryLog,
    model,
    forkFor(reader) {
      const fork = orm.em.fork();
      restrictTo(fork, {
        rowSql: (entityName, row, parentsVisibleThrough) =>
          model.rowSql(reader, entityName, row, { parentsVisibleThrough }),
        describe: (entityName) => ({ rules: model.describe(reader, entityName) }),
        ruleLabels: (entityName) => model.ruleLabels(reader, entityName),
      });
      return fork;
    },
    async close() {
      await orm.close();
      await db.drop();
    },
  };
}
