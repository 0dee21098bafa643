import { type EntityManager } from '@mikro-orm/postgresql';
import { type DatabasePolicies } from '../system/database-policies.js';
import { runSql } from '../../src/db/raw-sql.js';

const listed = (tables: string[]) => (tables.length > 0 ? tables.join(', ') : 'none');

/**
 * Which tables the policies close and which they leave as they are, as the security CLIs print it:
 * row security on a table changes what every other client of the database reads (see
 * `restrictsRows` in security/system/database-policies.ts).
 */
export function rowSecuritySummary(plan: DatabasePolicies): string[] {
  return [
    `Row-level security, forced, on ${plan.tables.length} table(s) whose rows the declarations restrict: ${listed(plan.tables)}.`,
    '  Other clients of this database see no row of these: README, "Other clients of the same database", says how to let one in.',
    `Verbs only on ${plan.unrestrictedTables.length} table(s) no rule restricts rows of, which every other client reads and writes as before: ${listed(plan.unrestrictedTables)}.`,
  ];
}

/**
 * The served views the database's policies do not reach: a view reads its tables as its owner, so
 * when the owner bypasses row security (a superuser, BYPASSRLS) and the view is not
 * `security_invoker`, its tables' policies never see the reader. The gateway's filter alone keeps
 * those views; the security CLIs say so, and how to change it.
 */
export async function viewsOutsideRowSecurity(em: EntityManager, plan: DatabasePolicies): Promise<string[]> {
  if (plan.views.length === 0) return [];
  const rows = await runSql<{ view: string; owner: string }>(
    em,
    `select case when n.nspname = 'public' then c.relname else n.nspname || '.' || c.relname end as view,
            r.rolname as owner
       from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_roles r on r.oid = c.relowner
      where c.relkind = 'v' and (r.rolsuper or r.rolbypassrls)
        and not coalesce('security_invoker=true' = any(c.reloptions), false)
        and (case when n.nspname = 'public' then c.relname else n.nspname || '.' || c.relname end) in (?)
      order by 1`,
    [plan.views],
  );
  if (rows.length === 0) return [];
  return [
    `Views the database's policies do not reach, owned by a role that bypasses row security: ${rows.map((row) => `${row.view} (${row.owner})`).join(', ')}.`,
    "  The gateway's filter alone keeps them. To have PostgreSQL check their tables' policies for each reader:",
    '  alter view <view> set (security_invoker = true), or give them an owner without BYPASSRLS.',
  ];
}
