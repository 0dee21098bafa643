import { sql, type SqlFragment } from '../../security/system/sql-fragment.js';

/** PostgreSQL's json_build_object takes at most 100 arguments: 50 keys with their values. */
const MAX_PAIRS = 50;

/**
 * `json_build_object('key', <value>, …)` of any number of pairs: past 50 of them, objects of 50 merged
 * as jsonb (which an entity with more columns than that, or an aggregate over them, needs).
 */
export function jsonObjectSql(pairs: readonly (readonly [string, SqlFragment])[]): SqlFragment {
  const entries = pairs.map(([key, value]) => sql`${key}::text, ${value}`);
  const objects: SqlFragment[] = [];
  for (let start = 0; start === 0 || start < entries.length; start += MAX_PAIRS)
    objects.push(sql`json_build_object(${sql.join(entries.slice(start, start + MAX_PAIRS))})`);
  if (objects.length === 1) return objects[0]!;
  return sql`(${sql.join(
    objects.map((object) => sql`${object}::jsonb`),
    sql` || `,
  )})::json`;
}
