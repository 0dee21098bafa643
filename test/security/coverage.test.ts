import { Entity, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Order } from '../../demo/northwind/entities/index.js';
import northwind from '../../demo/northwind/index.js';
import { assembleGateway } from '../../src/assemble.js';
import { SecurityDeclarationError } from '../../security/system/declaration-checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { TEST_AUTH_CONFIG } from '../helpers/test-gateway.js';

/** A table someone adds to the demo domain and forgets in the declarations. */
@Entity()
class Warehouse {
  @PrimaryKey({ type: 'integer' })
  id!: number;

  @Property({ type: 'string' })
  name!: string;
}

/** The same, but reaching a tenant through an order: covered by a scope once one is declared. */
@Entity()
class Shipment {
  @PrimaryKey({ type: 'integer' })
  id!: number;

  @ManyToOne(() => Order, { nullable: true, index: true })
  order?: Order | null;
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const start = (extra: (new () => object)[]) =>
  assembleGateway({
    databaseUrl: db.url,
    log: pino({ level: 'silent' }),
    auth: { config: TEST_AUTH_CONFIG, dataDir: '/nonexistent' },
    domain: { ...northwind, entities: [...northwind.entities, ...extra] },
  });

describe('tenant coverage', () => {
  it.each([
    [Warehouse, 'Warehouse'],
    [Shipment, 'Shipment'],
  ])(
    'an entity added without a tenant rule stops start-up with one line naming it and the three fixes',
    async (entity, name) => {
      const failure = await start([entity]).then(
        () => new Error('started'),
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(SecurityDeclarationError);
      expect((failure as Error).message).toBe(
        `${name} is not covered by the tenant filter "clientId": give it a clientId property, ` +
          `declare scope(${name}, '<to-one relation>') to a covered entity, or declare sharedByAllTenants(${name})`,
      );
      expect((failure as Error).message).not.toContain('\n');
      // It stopped before touching the database: no table was created, no migration ran.
      const { rows } = await db.sql.query(
        "select to_regclass('warehouse') as t, to_regclass('shipment') as s",
      );
      expect(rows[0]).toEqual({ t: null, s: null });
    },
  );
});
