import { type MikroORM } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import {
  DatabaseSchema,
  type DatabaseTable,
  type EntityManager,
  type ForeignKey,
  SchemaComparator,
  type SchemaDifference,
  type SqlSchemaGenerator,
} from '@mikro-orm/postgresql';

/** Which migrations ran; earlier versions kept it in `public` (see MappedTablesMigrator.init). */
export const MIGRATIONS_TABLE = 'auth.mikro_orm_migrations';

/**
 * The migrator of `npm run db:migration:create`, diffing the entities against only what they map.
 *
 * MikroORM's own compares the entities with everything in the database and drops what they do not
 * map: the `auth` schema and its tables, a team's own tables, views, enums and functions (SPEC §9:
 * those are never grantgate's to drop). Here the database side of the comparison holds only the
 * tables, views and enums the entities map (and of those tables only the foreign keys over columns a
 * relation maps, and the triggers they declare), so a migration can add to or change the mapped tables
 * and nothing else.
 */
export class MappedTablesMigrator extends Migrator {
  static override register(orm: MikroORM): void {
    orm.config.registerExtension(
      '@mikro-orm/migrator',
      () => new MappedTablesMigrator(orm.em as EntityManager),
    );
  }

  /**
   * Before the first use, moves the list of applied migrations from `public` (where versions before
   * the `auth.` table name kept it) into its schema, so an existing database does not run them twice.
   */
  protected override async init(): Promise<void> {
    if (!this.initialized) {
      await this.driver.getConnection().execute(`
        do $$ begin
          if to_regclass('public.mikro_orm_migrations') is not null
             and to_regclass('${MIGRATIONS_TABLE}') is null then
            create schema if not exists auth;
            alter table public.mikro_orm_migrations set schema auth;
          end if;
        end $$`);
    }
    return super.init();
  }

  private get schemaGenerator(): SqlSchemaGenerator {
    return this.config.getExtension<SqlSchemaGenerator>('@mikro-orm/schema-generator')!;
  }

  /**
   * Stands in for the snapshot file (off in orm-config.ts): the base class diffs the entities
   * against this schema instead of introspecting the whole database.
   */
  protected override async getSchemaFromSnapshot(): Promise<DatabaseSchema> {
    const target = this.schemaGenerator.getTargetSchema();
    const platform = this.driver.getPlatform();
    const { skipTables, skipViews } = this.config.get('schemaGenerator');
    const current = await DatabaseSchema.create(
      this.driver.getConnection(),
      platform,
      this.config,
      undefined,
      target.getNamespaces(),
      undefined,
      skipTables,
      skipViews,
    );
    const defaultSchema = platform.getDefaultSchemaName() ?? 'public';
    const key = (table: { schema?: string; name: string }) =>
      `${table.schema ?? defaultSchema}.${table.name}`;
    const mappedViews = new Set(target.getViews().map(key));
    const mappedEnums = new Set(Object.keys(target.getNativeEnums()));

    const targetTables = new Map(target.getTables().map((table) => [key(table), table]));
    const tables = current.getTables().filter((table) => targetTables.has(key(table)));
    for (const table of tables) {
      keepDeclaredForeignKeys(table, targetTables.get(key(table))!);
      keepDeclaredTriggers(table, targetTables.get(key(table))!);
    }
    current.setTables(tables);
    current.setViews(current.getViews().filter((view) => mappedViews.has(key(view))));
    current.setNativeEnums(
      Object.fromEntries(Object.entries(current.getNativeEnums()).filter(([name]) => mappedEnums.has(name))),
    );
    current.setNamespaces(new Set(target.getNamespaces()));
    return current;
  }

  /** The difference a new migration would make, as MikroORM's comparator structures it. */
  async pendingSchemaDifference(): Promise<SchemaDifference> {
    await this.init();
    return new SchemaComparator(this.driver.getPlatform()).compare(
      await this.getSchemaFromSnapshot(),
      this.schemaGenerator.getTargetSchema(),
    );
  }
}

/**
 * A foreign key over columns no relation of the entities maps is the team's (one to a table no entity
 * maps, one of several columns the import serves as plain columns): out of the comparison.
 */
function keepDeclaredForeignKeys(table: DatabaseTable, target: DatabaseTable) {
  const columnsOf = (fk: ForeignKey) => fk.columnNames.join(',');
  const declared = new Set(Object.values(target.getForeignKeys()).map(columnsOf));
  table.setForeignKeys(
    Object.fromEntries(
      Object.entries(table.getForeignKeys()).filter(([, fk]) => declared.has(columnsOf(fk))),
    ),
  );
}

/**
 * A trigger the entities do not declare is the team's (Pagila's `last_updated`, a `tsvector` kept up
 * to date): out of the comparison, so a migration never drops it. grantgate declares none.
 */
function keepDeclaredTriggers(table: DatabaseTable, target: DatabaseTable) {
  const declared = new Set(target.getTriggers().map((trigger) => trigger.name));
  table.setTriggers(table.getTriggers().filter((trigger) => declared.has(trigger.name)));
}

// MikroORM.init() adds its stock migrator unless an extension named `Migrator` is registered.
Object.defineProperty(MappedTablesMigrator, 'name', { value: 'Migrator' });
