import { type EntityManager } from '@mikro-orm/postgresql';

/**
 * The columns of the index (a unique or primary key constraint's, or a unique index) named `name` in
 * `schema`, in its order; null for a part that is an expression. Read from the catalog, which every
 * role may read: it names columns, never rows.
 */
export async function indexColumns(
  em: EntityManager,
  name: string,
  schema: string,
): Promise<(string | null)[]> {
  const rows = await em.getConnection().execute<{ column: string | null }[]>(
    `select a.attname as "column"
       from pg_class i
       join pg_index x on x.indexrelid = i.oid
       cross join unnest(x.indkey) with ordinality as k(attnum, position)
       left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
      where i.relname = ? and i.relnamespace = (select oid from pg_namespace where nspname = ?)
      order by k.position`,
    [name, schema],
  );
  return rows.map((row) => row.column);
}
