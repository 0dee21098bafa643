import { type EntityProperty, ReferenceKind } from '@mikro-orm/core';
import { DatabaseSchema, type MikroORM } from '@mikro-orm/postgresql';
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
      columns: new Map(
        (Object.values(table.getEntityDeclaration(naming, helper, 'always').properties) as EntityProperty[])
          .filter((prop) => prop.kind === ReferenceKind.SCALAR)
          .map((prop) => [prop.fieldNames[0]!, prop]),
      ),
    }));
  const views = schema
    .getViews()
    .filter((view) => inSchemas(view.schema))
    .map((view) => view.name);
  return { tables, views };
}
