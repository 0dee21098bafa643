import { type EntityClass, type EntityManager, type MigrationObject } from '@mikro-orm/core';
import { Migration } from '@mikro-orm/migrations';
import { MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import { declaredPolicyStatements } from '../../security/database/security-migrations.js';
import { type SecurityPolicy } from '../../security/system/policy.js';
import { createOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';
import { type DemoUsers, type Domain } from '../../src/domain.js';

/**
 * A domain a test declares next to itself (ZenStack style): its entity classes, its declarations and
 * its rows, so an engine test states the data it reads instead of borrowing the demo's.
 */
export interface OwnDomainSpec {
  /** Names the domain in messages and its migrations; no folder of that name is read or written. */
  name: string;
  entities: EntityClass<object>[];
  policy: SecurityPolicy;
  /** Writes every row, as the tables' owner, into the empty tables. */
  seed(em: EntityManager): void;
  demoUsers?: DemoUsers;
}

/**
 * The spec as a domain the gateway serves as `npm start` serves the demo: migrated by migrations of
 * its own (its tables, then its row security) and seeded with its rows (`startTestGateway({ empty:
 * true, prepare: true, domain })`). The demo commits the migrations `db:migration:create` and
 * `security:migration` wrote; a test's domain is a few classes that change with the test, so its two
 * migrations are made here, from the same sources those commands read: the entities' schema and
 * the declarations' policies.
 */
export async function ownDomain(spec: OwnDomainSpec): Promise<Domain> {
  const domain: Domain = {
    folder: `test/own-domain/${spec.name}`,
    entities: spec.entities,
    policy: spec.policy,
    migrations: [],
    demoData: {
      isEmpty: async (em) => {
        for (const entity of spec.entities) if ((await em.count(entity, {})) > 0) return false;
        return true;
      },
      write: async (em) => {
        spec.seed(em);
        await em.flush();
      },
    },
    demoUsers: spec.demoUsers,
  };
  domain.migrations = [
    sqlMigration(`Migration00000000000001_${spec.name}`, [await createTablesSql(spec.entities)]),
    sqlMigration('Migration00000000000002_row_security', declaredPolicyStatements(domain)),
  ];
  return domain;
}

/** The DDL that creates the entities' tables, as MikroORM's schema generator writes it (no connection). */
async function createTablesSql(entities: EntityClass<object>[]): Promise<string> {
  const orm = new MikroORM(
    createOrmOptions({
      clientUrl: 'postgres://127.0.0.1/metadata-only',
      queryLog: new QueryLog(pino({ level: 'silent' })),
      entities,
    }),
  );
  return orm.schema.getCreateSchemaSQL({ wrap: false });
}

/** A migration that runs `statements` in order, named as the migrator records it. */
function sqlMigration(name: string, statements: string[]): MigrationObject {
  class SqlMigration extends Migration {
    override name = name;

    override up(): void {
      for (const statement of statements) this.addSql(statement);
    }
  }
  return { name, class: SqlMigration };
}
