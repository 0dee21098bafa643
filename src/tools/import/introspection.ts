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
 * The tables and views of `schemas` through MikroORM's own introspection, each with the entity
 * declaration MikroORM's entity generator starts from (DatabaseTable.getEntityDeclaration): column
 * types, keys, relations, defaults and generated columns as MikroORM understands them. Partitions are
 * not tables here: the partitioned parent is. A view's key is the one `viewKeys` finds, if any.
 */
export async function introspect(
  orm: MikroORM,
  schemas: string[],
): Promise<{ tables: IntrospectedTable[]; views: IntrospectedTable[]; materializedViews: string[] }> {
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
  // In the order of `schemas`, then by name: who keeps a class name that two tables would take.
  const inOrder = (a: { schema?: string; name: string }, b: { schema?: string; name: string }) =>
    schemas.indexOf(schemaOf(a.schema)) - schemas.indexOf(schemaOf(b.schema)) || a.name.localeCompare(b.name);
  const introspected = (table: DatabaseTable, primaryKeyColumns: string[]): IntrospectedTable => ({
    name: table.name,
    schema: table.schema,
    meta: table.getEntityDeclaration(naming, helper, 'never'),
    foreignKeys: new Map(Object.values(table.getForeignKeys()).map((fk) => [fk.columnNames.join(','), fk])),
    primaryKeyColumns,
    columns: new Map(
      table.getColumns().map((column) => [column.name, scalarDeclaration(table, column, naming, helper)]),
    ),
  });
  const filled = await triggerFilledColumns(orm, schemas);
  const tables = schema
    .getTables()
    .filter((table) => inSchemas(table.schema))
    .sort(inOrder)
    .map((table) => ({
      ...introspected(table, table.getIndexes().find((index) => index.primary)?.columnNames ?? []),
      triggerFilled: filled.get(`${schemaOf(table.schema)}.${table.name}`),
    }));
  // A view's columns are read as a table's are (MikroORM's introspection of a view stops at its SQL).
  const views = schema.getViews().filter((view) => inSchemas(view.schema) && !view.materialized);
  const viewColumns = new DatabaseSchema(platform, schemaOf());
  await helper.loadInformationSchema(
    viewColumns,
    orm.em.getConnection(),
    views.map((view) => ({ table_name: view.name, schema_name: schemaOf(view.schema) })),
    schemas,
  );
  const keys = await viewKeys(orm, schemas);
  return {
    tables,
    materializedViews: schema
      .getViews()
      .filter((view) => inSchemas(view.schema) && view.materialized)
      .map((view) => view.name),
    views: viewColumns
      .getTables()
      .sort(inOrder)
      .map((table) => {
        const view = views.find(
          (each) => each.name === table.name && schemaOf(each.schema) === schemaOf(table.schema),
        )!;
        const keyed = keys.get(`${schemaOf(table.schema)}.${table.name}`);
        const key = keyed?.key ?? [];
        const declared = introspected(table, key);
        // A view column is nullable and has no default to the catalog; one of a keyed view that is its
        // table's column as it is (a row of the view is a row of the table) has the column's
        // nullability, default and identity, which a view declared writable inserts with.
        const base = tables.find((each) => `${schemaOf(each.schema)}.${each.name}` === keyed?.table);
        for (const prop of Object.values(declared.meta.properties) as EntityProperty[]) {
          const column = prop.fieldNames[0]!;
          const own = keyed?.columns.includes(column) ? base?.columns?.get(column) : undefined;
          if (own)
            Object.assign(prop, {
              nullable: own.nullable,
              default: own.default,
              defaultRaw: own.defaultRaw,
              autoincrement: own.autoincrement,
              generated: own.generated,
            });
          // The key the catalog shows, declared as a table's would be: not null, primary.
          if (key.includes(column)) Object.assign(prop, { primary: true, nullable: false });
        }
        return { ...declared, view: { definition: view.definition } };
      }),
  };
}

/**
 * The key each view can be addressed by, where the catalog shows one, with its one table and the
 * columns it selects from that table as they are: a view PostgreSQL can update
 * automatically (one table, no aggregate, join, DISTINCT or set operation, so one view row is one
 * table row) whose columns include that table's primary key columns, selected as they are and under
 * their own names (a view column named like a key column but selected from another is no key). By view (`schema.name`), the key's columns in the constraint's order.
 */
async function viewKeys(
  orm: MikroORM,
  schemas: string[],
): Promise<Map<string, { key: string[]; table: string; columns: string[] }>> {
  const rows = await orm.em
    .getConnection()
    .execute<{ view: string; key: string; table: string; columns: string }[]>(
      String.raw`select v.table_schema || '.' || v.table_name as view, json_agg(a.attname order by k.ordinality)::text as key,
            min(u.table_schema || '.' || u.table_name) as table,
            (select json_agg(tc.column_name)::text
               from information_schema.columns tc
               join information_schema.columns wc on wc.table_schema = v.table_schema and wc.table_name = v.table_name
                and wc.column_name = tc.column_name and wc.is_updatable = 'YES'
              where tc.table_schema = min(u.table_schema) and tc.table_name = min(u.table_name)
                and v.view_definition !~* ('\mAS\s+"{0,1}' || tc.column_name || '"{0,1}\M')) as columns
       from information_schema.views v
       join information_schema.view_table_usage u on u.view_schema = v.table_schema and u.view_name = v.table_name
       join pg_constraint c on c.contype = 'p'
        and c.conrelid = (quote_ident(u.table_schema) || '.' || quote_ident(u.table_name))::regclass
       cross join unnest(c.conkey) with ordinality as k(attnum, ordinality)
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
       join information_schema.columns vc on vc.table_schema = v.table_schema and vc.table_name = v.table_name
        and vc.column_name = a.attname and vc.is_updatable = 'YES'
        -- named so in the view because it is that column (pg_get_viewdef writes a renamed one "x AS id")
        and v.view_definition !~* ('\mAS\s+"{0,1}' || a.attname || '"{0,1}\M')
      where v.table_schema in (?) and v.is_updatable = 'YES'
        and (select count(*) from information_schema.view_table_usage w
              where w.view_schema = v.table_schema and w.view_name = v.table_name) = 1
      group by v.table_schema, v.table_name, v.view_definition, c.conkey
     having count(*) = cardinality(c.conkey)`,
      [schemas],
    );
  return new Map(
    rows.map((row) => [
      row.view,
      {
        key: JSON.parse(row.key) as string[],
        table: row.table,
        columns: (JSON.parse(row.columns) as string[] | null) ?? [],
      },
    ]),
  );
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

/**
 * The required columns without a default that a BEFORE INSERT row trigger fills: named as the
 * trigger's first argument (`tsvector_update_trigger(fulltext, …)`) or assigned in its function
 * (`new.total := …`). By table (`schema.name`), each column with the trigger's name. A trigger that
 * fills a column another way is not seen: the column stays required.
 */
async function triggerFilledColumns(
  orm: MikroORM,
  schemas: string[],
): Promise<Map<string, Map<string, string>>> {
  const rows = await orm.em.getConnection().execute<{ table: string; column: string; trigger: string }[]>(
    String.raw`select n.nspname || '.' || c.relname as "table", a.attname as "column", min(t.tgname) as "trigger"
       from pg_trigger t
       join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_proc p on p.oid = t.tgfoid
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        and a.attnotnull and not a.atthasdef and a.attidentity = '' and a.attgenerated = ''
      where not t.tgisinternal and t.tgtype & 7 = 7 and n.nspname in (?)
        and (a.attname = (string_to_array(encode(t.tgargs, 'escape'), '\000'))[1]
             or p.prosrc ~* (? || regexp_replace(a.attname, '(\W)', '\\\1', 'g') || ?))
      group by 1, 2`,
    // The pattern's own question marks go in as values: MikroORM takes a `?` in the SQL for a value.
    [schemas, String.raw`new\s*\.\s*"?`, String.raw`"?\s*:?=`],
  );
  const byTable = new Map<string, Map<string, string>>();
  for (const row of rows)
    byTable.set(row.table, (byTable.get(row.table) ?? new Map()).set(row.column, row.trigger));
  return byTable;
}
