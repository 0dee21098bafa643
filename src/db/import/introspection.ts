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
  const inSchemas = (name?: string) => schemas.includes(name ?? platform.getDefaultSchemaName() ?? 'public');
  const tables = schema
    .getTables()
    .filter((table) => inSchemas(table.schema))
    .map((table) => ({
      name: table.name,
      schema: table.schema,
      // A SQL platform always has a schema helper; the type allows none for the others.
      meta: table.getEntityDeclaration(orm.config.getNamingStrategy(), platform.getSchemaHelper()!, 'never'),
    }));
  const views = schema
    .getViews()
    .filter((view) => inSchemas(view.schema))
    .map((view) => view.name);
  return { tables, views };
}
