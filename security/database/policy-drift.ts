import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import {
  FIELD_WRITES_TRIGGER,
  POLICY_NAME_PATTERN,
  VERB_FUNCTION,
  policyStatements,
  type DatabasePolicies,
} from '../system/database-policies.js';
import { dangerouslyBypassRowSecurity } from '../system/row-security.js';
import { runSql } from '../../src/db/raw-sql.js';

interface PolicyRow {
  table: string;
  name: string;
  permissive: string;
  command: string;
  using: string | null;
  check: string | null;
}

/** A field-writes trigger (database-policies.ts) or its function, as PostgreSQL prints it. */
interface TriggerRow {
  table: string;
  name: string;
  definition: string;
}

interface TableRow {
  table: string;
  enabled: boolean;
  forced: boolean;
}

export interface Drift {
  kind: 'missing' | 'extra' | 'different' | 'not enforced';
  table: string;
  policy?: string;
  detail?: string;
}

async function readState(
  em: EntityManager,
): Promise<{ policies: PolicyRow[]; triggers: TriggerRow[]; tables: TableRow[] }> {
  const policies = await runSql<PolicyRow>(
    em,
    `select case when schemaname = 'public' then tablename else schemaname || '.' || tablename end as table,
            policyname as name, permissive, cmd as command, qual as using, with_check as check
       from pg_policies where policyname like '${POLICY_NAME_PATTERN}'
      order by 1, 2`,
  );
  const triggers = await runSql<TriggerRow>(
    em,
    `select case when n.nspname = 'public' then c.relname else n.nspname || '.' || c.relname end as table,
            t.tgname as name, pg_get_triggerdef(t.oid) as definition
       from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where t.tgname = '${FIELD_WRITES_TRIGGER}'
     union all
     select '(function)', proname, pg_get_functiondef(oid) from pg_proc
      where proname in ('${FIELD_WRITES_TRIGGER}', '${VERB_FUNCTION}')
      order by 1, 2`,
  );
  const tables = await runSql<TableRow>(
    em,
    `select case when n.nspname = 'public' then relname else n.nspname || '.' || relname end as table,
            relrowsecurity as enabled, relforcerowsecurity as forced
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema') order by 1`,
  );
  return { policies, triggers, tables };
}

/**
 * Compares the database's policies with the declarations. PostgreSQL stores a policy's expression in
 * its own normalised form, so the expected form is obtained the same way: the declared policies are
 * created inside a transaction that is rolled back, and read back from pg_policies.
 */
export async function policyDrift(orm: MikroORM, plan: DatabasePolicies): Promise<Drift[]> {
  const em = dangerouslyBypassRowSecurity(orm.em);
  const actual = await readState(em);
  let expected: Awaited<ReturnType<typeof readState>> | undefined;
  await em
    .transactional(async (tx) => {
      for (const statement of policyStatements(plan)) await runSql(tx, statement);
      expected = await readState(tx);
      throw new RolledBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });

  const key = (p: PolicyRow | TriggerRow) => `${p.table}.${p.name}`;
  const byKey = (state: typeof actual) =>
    new Map<string, PolicyRow | TriggerRow>([...state.policies, ...state.triggers].map((p) => [key(p), p]));
  const actualByKey = byKey(actual);
  const expectedByKey = byKey(expected!);
  const shown = (p: PolicyRow | TriggerRow) => ('definition' in p ? p.definition : (p.using ?? p.check));
  const drift: Drift[] = [];
  for (const [k, want] of expectedByKey) {
    const have = actualByKey.get(k);
    if (!have) drift.push({ kind: 'missing', table: want.table, policy: want.name });
    else if (JSON.stringify(have) !== JSON.stringify(want))
      drift.push({
        kind: 'different',
        table: want.table,
        policy: want.name,
        detail: `is ${shown(have)}, declared ${shown(want)}`,
      });
  }
  for (const [k, have] of actualByKey) {
    if (!expectedByKey.has(k)) drift.push({ kind: 'extra', table: have.table, policy: have.name });
  }
  for (const table of [...plan.tables, ...plan.unrestrictedTables]) {
    const state = actual.tables.find((t) => t.table === table);
    if (!state?.enabled || !state.forced) {
      drift.push({
        kind: 'not enforced',
        table,
        detail: state?.enabled ? 'row level security is not forced' : 'row level security is off',
      });
    }
  }
  return drift;
}

class RolledBack extends Error {}
