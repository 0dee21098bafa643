import { type EntityProperty, type NamingStrategy, ReferenceKind } from '@mikro-orm/core';
import {
  type Column,
  DatabaseSchema,
  type DatabaseTable,
  type MikroORM,
  type SchemaHelper,
} from '@mikro-orm/postgresql';
import { type IntrospectedTable } from './entity-plan.js';

/**
 * The tables and views of `schemas` through MikroORM's own introspection, each table with the
 * entity declaration MikroORM's entity generator starts from (DatabaseTable.getEntityDeclaration):
 * column types, keys, relations, defaults and generated columns as MikroORM understands them.
 * Partitions are not tables here: the partitioned parent is.
 */
export async function introspect(
  orm: MikroORM,
  schemas: string[],
): Promise<{ tables: IntrospectedTable[]; views: string[] }> {
  const platform = orm.em.getPlatform();
  const schema = await DatabaseSchema.create(
    orm.em.getConnection(),
    platform,
    orm.config,
    undefined,
    schemas,
  );
  const inSchemas = (name?: string) => schemas.includes(schemaOf(name));
  const schemaOf = (name?: string) => name ?? platform.getDefaultSchemaName() ?? 'public';
  // A SQL platform always has a schema helper; the type allows none for the others.
  const helper = platform.getSchemaHelper()!;
  const naming = orm.config.getNamingStrategy();
  const tables = schema
    .getTables()
    .filter((table) => inSchemas(table.schema))
    // In the order of `schemas`, then by name: who keeps a class name that two tables would take.
    .sort(
      (a, b) =>
        schemas.indexOf(schemaOf(a.schema)) - schemas.indexOf(schemaOf(b.schema)) ||
        a.name.localeCompare(b.name),
    )
    .map((table) => ({
      name: table.name,
      schema: table.schema,
      meta: table.getEntityDeclaration(naming, helper, 'never'),
      foreignKeys: new Map(Object.values(table.getForeignKeys()).map((fk) => [fk.columnNames.join(','), fk])),
      primaryKeyColumns: table.getIndexes().find((index) => index.primary)?.columnNames ?? [],
      columns: new Map(
        table.getColumns().map((column) => [column.name, scalarDeclaration(table, column, naming, helper)]),
      ),
    }));
  const views = schema
    .getViews()
    .filter((view) => inSchemas(view.schema))
    .map((view) => view.name);
  return { tables, views };
}

/**
 * A column as a scalar property, however its foreign keys are mapped: MikroORM's declaration of a
 * column without its foreign key (what DatabaseTable.getEntityDeclaration builds each property
 * with). The declaration itself can drop a column, when a relation takes the column's name (`team`
 * text beside `team_id`): the import maps such a column from here.
 */
function scalarDeclaration(
  table: DatabaseTable,
  column: Column,
  naming: NamingStrategy,
  helper: SchemaHelper,
): EntityProperty {
  const declare = (
    table as unknown as {
      getPropertyDeclaration(
        column: Column,
        naming: NamingStrategy,
        helper: SchemaHelper,
        compositeFkIndexes: object,
        compositeFkUniques: object,
        columnFks: object,
      ): Record<string, unknown>;
    }
  ).getPropertyDeclaration.bind(table);
  const prop = declare(column, naming, helper, {}, {}, {});
  return {
    ...prop,
    kind: ReferenceKind.SCALAR,
    fieldNames: [column.name],
    columnTypes: [column.type],
  } as unknown as EntityProperty;
}
