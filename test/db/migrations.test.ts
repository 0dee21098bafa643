import { MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import northwind from '../../demo/northwind/index.js';
import { createOrmOptions, domainOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

let db: TestDatabase;
let orm: MikroORM;
beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  orm = await MikroORM.init(
    createOrmOptions({
      clientUrl: db.url,
      queryLog: new QueryLog(pino({ level: 'silent' })),
      ...domainOrmOptions(northwind),
    }),
  );
});
afterAll(async () => {
  await orm?.close();
  await db?.drop();
});

describe('committed migrations', () => {
  it('build exactly the schema the entities describe (run `npm run db:migration:create` after changing one)', async () => {
    const applied = await orm.migrator.up();
    expect(applied.length).toBeGreaterThan(0);
    expect(await orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe('');
  });

  it('index every foreign key and every column a security filter will select on', async () => {
    const { rows: foreignKeys } = await db.sql.query<{ table: string; column: string }>(`
      select c.conrelid::regclass::text as table, a.attname as column
      from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
      where c.contype = 'f' and c.connamespace = 'public'::regnamespace`);
    expect(foreignKeys.length).toBe(10);
    const filterColumns = [
      ['category', 'client_id'],
      ['customer', 'client_id'],
      ['customer', 'region'],
      ['employee', 'region'],
      ['supplier', 'region'],
      ['department', 'security_level'],
      ['product', 'discontinued'],
    ].map(([table, column]) => ({ table: table!, column: column! }));
    const { rows: indexed } = await db.sql.query<{ table: string; column: string }>(`
      select i.indrelid::regclass::text as table, a.attname as column
      from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]`);
    const unquote = (name: string) => name.replaceAll('"', '');
    const indexedSet = new Set(indexed.map((row) => `${unquote(row.table)}.${row.column}`));
    for (const { table, column } of [...foreignKeys, ...filterColumns]) {
      expect(indexedSet, `${table}.${column}`).toContain(`${unquote(table)}.${column}`);
    }
  });

  it('can be rolled back and applied again', async () => {
    await orm.migrator.down({ to: 0 });
    const { rows } = await db.sql.query(
      `select count(*)::int as n from pg_tables where schemaname = 'public' and tablename = 'customer'`,
    );
    expect(rows[0].n).toBe(0);
    await orm.migrator.up();
    expect(await orm.schema.getUpdateSchemaSQL({ wrap: false })).toBe('');
  });
});
