import { type EntityMetadata, type MetadataStorage } from '@mikro-orm/core';
import { coversEntity, type GlobalFilter, type SecurityPolicy } from './policy.js';
import { SUPERUSER_ROLE } from './row-security.js';

/**
 * The database's copy of the global filters, derived from the same declarations (never written by
 * hand): each global filter becomes a RESTRICTIVE policy on every table that has its attribute, so a
 * row must pass all of them, exactly as `global₁ AND global₂ …` in the application layer. The
 * request's user reaches PostgreSQL as transaction-local settings (see `requestSettings`); a missing
 * setting reads as NULL, which no comparison admits, so a connection without settings sees no rows.
 */

/** Settings the gateway sets per request with set_config(…, true). */
export const SETTING = {
  superuser: 'grantgate.superuser',
  roles: 'grantgate.roles',
  attribute: (name: string) => `grantgate.user.${name}`,
} as const;

/** Prefix of every policy grantgate manages; the migration replaces all of them at once. */
export const POLICY_PREFIX = 'grantgate_';
/** The permissive policy each secured table needs: restrictive ones alone would admit no row at all. */
export const BASE_POLICY = `${POLICY_PREFIX}rows`;

export interface TablePolicy {
  table: string;
  name: string;
  /** The boolean SQL expression of USING and WITH CHECK. */
  expression: string;
}

export interface AppOnlyFilter {
  attribute: string;
  reason: string;
}

export interface DatabasePolicies {
  /** Tables with row-level security enabled and forced, in a stable order. */
  tables: string[];
  policies: TablePolicy[];
  /** The user attributes the policies read, each from the setting `grantgate.user.<attribute>`. */
  attributes: string[];
  /** Global filters the database cannot express; the application layer still enforces them. */
  appOnly: AppOnlyFilter[];
}

class NotStatic extends Error {}

/**
 * A user attribute read by a filter during symbolic evaluation. Computing with it (a string, a
 * number, a comparison) would make the condition depend on the user in a way SQL cannot mirror, so
 * any conversion throws and the filter is reported as not static.
 */
class UserValue {
  constructor(readonly attribute: string) {}
  [Symbol.toPrimitive](): never {
    throw new NotStatic(`it computes with currentUser.${this.attribute}`);
  }
}

const COMPARISONS: Record<string, string> = {
  $eq: '=',
  $ne: '<>',
  $gt: '>',
  $gte: '>=',
  $lt: '<',
  $lte: '<=',
};

function literal(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  throw new NotStatic(`${JSON.stringify(value)} is not a number, string or boolean`);
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Calls the filter with a user whose every attribute is a placeholder, to see its shape. */
function symbolicCondition(global: GlobalFilter, read: Set<string>): Record<string, unknown> {
  const currentUser = new Proxy(
    {},
    {
      get: (_target, key) => {
        if (typeof key !== 'string') return undefined;
        read.add(key);
        return new UserValue(key);
      },
    },
  );
  let condition: unknown;
  try {
    condition = global.filter(currentUser as never);
  } catch (error) {
    if (error instanceof NotStatic) throw error;
    throw new NotStatic(`it throws when evaluated symbolically (${(error as Error).message})`);
  }
  if (!condition || typeof condition !== 'object' || Array.isArray(condition))
    throw new NotStatic('it does not return a condition object');
  return condition as Record<string, unknown>;
}

function columnExpression(meta: EntityMetadata, property: string, value: unknown): string {
  const prop = meta.properties[property as never] as EntityMetadata['props'][number] | undefined;
  if (!prop?.fieldNames?.length) throw new NotStatic(`${property} is not a column of ${meta.className}`);
  const column = quoteIdent(prop.fieldNames[0]!);
  const operand = (operandValue: unknown) =>
    operandValue instanceof UserValue
      ? // '' is what an unset custom setting reads as once any transaction has set it: treat as missing.
        // The scalar subquery is evaluated once per statement (an InitPlan), not once per row, and
        // lets the planner use the column's index.
        `(select nullif(current_setting('${SETTING.attribute(operandValue.attribute)}', true), '')::${prop.columnTypes[0]})`
      : literal(operandValue);
  if (value instanceof UserValue || typeof value !== 'object' || value === null) {
    if (value === null) throw new NotStatic('a comparison with null');
    return `${column} = ${operand(value)}`;
  }
  const parts = Object.entries(value).map(([operator, operandValue]) => {
    const sql = COMPARISONS[operator];
    if (!sql) throw new NotStatic(`operator ${operator} is not supported in the database`);
    return `${column} ${sql} ${operand(operandValue)}`;
  });
  if (parts.length === 0) throw new NotStatic('an empty condition');
  return parts.join(' and ');
}

/** Role exemptions and the superuser, as the database sees them through the request's settings. */
function exemption(global: GlobalFilter): string {
  const roles = [...new Set([SUPERUSER_ROLE, ...global.rolesNotFiltered])].map(literal).join(', ');
  // A scalar subquery: evaluated once per statement, not once per row.
  return (
    `select current_setting('${SETTING.superuser}', true) = 'on'` +
    ` or string_to_array(current_setting('${SETTING.roles}', true), ',') && array[${roles}]`
  );
}

/** Derives the policies from the declarations and the entities' metadata. */
export function databasePolicies(policy: SecurityPolicy, metadata: MetadataStorage): DatabasePolicies {
  const entities = [...metadata.getAll().values()]
    .filter((meta) => !meta.embeddable && !meta.virtual && meta.tableName)
    .sort((a, b) => a.tableName.localeCompare(b.tableName));
  const policies: TablePolicy[] = [];
  const appOnly: AppOnlyFilter[] = [];
  const attributes = new Set<string>();
  for (const global of policy.globalFilters) {
    const targets = entities.filter((meta) => coversEntity(global, meta));
    const read = new Set<string>();
    try {
      const condition = symbolicCondition(global, read);
      for (const meta of targets) {
        const predicate = Object.entries(condition)
          .map(([property, value]) => columnExpression(meta, property, value))
          .join(' and ');
        policies.push({
          table: meta.tableName,
          name: `${POLICY_PREFIX}${global.attribute}`,
          expression: `(${exemption(global)}) or (${predicate})`,
        });
      }
      read.forEach((attribute) => attributes.add(attribute));
    } catch (error) {
      if (!(error instanceof NotStatic)) throw error;
      appOnly.push({ attribute: global.attribute, reason: error.message });
    }
  }
  const tables = [...new Set(policies.map((p) => p.table))].sort();
  return { tables, policies, attributes: [...attributes].sort(), appOnly };
}

/** Removes every grantgate policy and turns row-level security off on their tables. */
export const RESET_POLICIES = `do $$
declare target record;
begin
  for target in select distinct schemaname, tablename from pg_policies where policyname like '${POLICY_PREFIX}%' loop
    execute format('alter table %I.%I no force row level security, disable row level security', target.schemaname, target.tablename);
  end loop;
  for target in select schemaname, tablename, policyname from pg_policies where policyname like '${POLICY_PREFIX}%' loop
    execute format('drop policy %I on %I.%I', target.policyname, target.schemaname, target.tablename);
  end loop;
end $$;`;

/**
 * The migration's statements: drop every grantgate policy (and RLS on its table), then create the
 * current set. Replacing the whole set makes each generated migration a complete, idempotent state.
 */
export function policyStatements(plan: DatabasePolicies): string[] {
  return [
    RESET_POLICIES,
    ...plan.tables.flatMap((table) => [
      `alter table ${quoteIdent(table)} enable row level security, force row level security;`,
      `create policy ${quoteIdent(BASE_POLICY)} on ${quoteIdent(table)} as permissive for all using (true) with check (true);`,
    ]),
    ...plan.policies.map(
      (p) =>
        `create policy ${quoteIdent(p.name)} on ${quoteIdent(p.table)} as restrictive for all using (${p.expression}) with check (${p.expression});`,
    ),
  ];
}
