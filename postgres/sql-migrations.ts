// postgres/ holds what both the runtime (src/) and the auth providers need of PostgreSQL and nothing
// of either: the gateway's refresh tokens and the SQL provider's users each keep a plain-SQL schema,
// and a provider may not reach into the engine (test/architecture.test.ts). A folder below both reads
// better than handing these helpers to every provider through its options.
import type pg from 'pg';
import { inTransaction } from './pg-transaction.js';

export interface SqlMigration {
  /** Ordered, never renamed: the id is what marks a migration as applied. */
  id: string;
  sql: string;
}

/**
 * Applies plain-SQL migrations to a schema that is not the ORM's (the auth data, the refresh tokens),
 * each once, in order, in one transaction, under an advisory lock so that instances starting
 * together do not race. The ORM's own tables use MikroORM's migrator instead.
 */
export async function applySqlMigrations(
  pool: pg.Pool,
  schema: string,
  migrations: SqlMigration[],
): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query('select pg_advisory_xact_lock(hashtext($1))', [`grantgate migrations ${schema}`]);
    await client.query(`create schema if not exists "${schema}"`);
    await client.query(
      `create table if not exists "${schema}".schema_migration (id text primary key, applied_at timestamptz not null default now())`,
    );
    const { rows } = await client.query<{ id: string }>(`select id from "${schema}".schema_migration`);
    const applied = new Set(rows.map((row) => row.id));
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue;
      await client.query(migration.sql);
      await client.query(`insert into "${schema}".schema_migration (id) values ($1)`, [migration.id]);
    }
  });
}
