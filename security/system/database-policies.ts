import { type EntityMetadata } from '@mikro-orm/core';
import { SUPERUSER_ROLE } from './identity.js';
import { type GlobalFilter, type Grant, type SecurityPolicy } from './policy.js';
import { isView, type SecuredEntity } from './secured-entity.js';
import { attributesOf, type Condition, type Operand, type Operator } from './captured-filter.js';

/**
 * The database's copy of the declarations (never written by hand): each global filter becomes a
 * RESTRICTIVE policy on every table that has its attribute, a table's filtered grants one RESTRICTIVE
 * policy, and each scope a RESTRICTIVE policy that the parent row exists — PostgreSQL applies the
 * parent's own policies inside that subquery, so the tenant boundary holds down the chain. A row must
 * pass all of them, exactly as `(grant₁ OR grant₂ …) AND global₁ AND global₂ … AND <parent visible>`
 * in the application layer. The request's user reaches
 * PostgreSQL as transaction-local settings (see `requestSettings`); without them a connection sees no
 * row of any table with row security (the permissive base policy requires them). Only the tables whose
 * rows the declarations restrict have it (see `restrictsRows`).
 */

/** Settings the gateway sets per request with set_config(…, true). */
export const SETTING = {
  superuser: 'grantgate.superuser',
  roles: 'grantgate.roles',
  attribute: (name: string) => `grantgate.user.${name}`,
} as const;

/** Prefix of every policy grantgate manages; the migration replaces all of them at once. */
export const POLICY_PREFIX = 'grantgate_';
/**
 * The permissive policy each table with row security needs (restrictive ones alone would admit no row
 * at all). It admits rows only to a transaction that carries the request's settings: a connection
 * without them sees nothing, even of tables whose filters read no user attribute.
 */
export const BASE_POLICY = `${POLICY_PREFIX}rows`;
const BASE_EXPRESSION = `(select current_setting('${SETTING.superuser}', true) in ('on', 'off'))`;
/** The restrictive policy of a scoped table: its parent row must be visible. */
export const SCOPE_POLICY = `${POLICY_PREFIX}scope`;
/** The restrictive policy of a table some role's grants filter: that role sees the rows they admit. */
export const GRANTS_POLICY = `${POLICY_PREFIX}grants`;

export interface TablePolicy {
  table: string;
  name: string;
  /** The boolean SQL expression of USING and WITH CHECK. */
  expression: string;
}

export interface DatabasePolicies {
  /** Tables with row-level security enabled and forced: those whose rows the declarations restrict. */
  tables: string[];
  /** Entity tables no rule restricts: no row-level security, so every client reads them as before. */
  unrestrictedTables: string[];
  /** The views served (they have no row security of their own: see `databasePolicies`). */
  views: string[];
  policies: TablePolicy[];
  /** The user attributes the policies read, each from the setting `grantgate.user.<attribute>`. */
  attributes: string[];
}

const COMPARISONS: Record<Operator, string> = {
  eq: '=',
  ne: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  in: 'in',
  nin: 'not in',
  like: 'like',
  ilike: 'ilike',
};

function literal(value: string | number | boolean | null): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return `'${value.replaceAll("'", "''")}'`;
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * A table as the policies name it: `customer`, or `sales.customer` outside the default schema (an
 * imported database's several schemas), quoted part by part in SQL.
 */
const tableOf = (meta: { schema?: string; tableName: string }) =>
  meta.schema && meta.schema !== 'public' ? `${meta.schema}.${meta.tableName}` : meta.tableName;
const quoteTable = (table: string) => table.split('.').map(quoteIdent).join('.');

/**
 * The user's value of an attribute, read once per statement: a scalar subquery is an InitPlan, not a
 * per-row call, and lets the planner use the column's index. '' is what an unset custom setting reads
 * as once any transaction has set it: missing, like an unusable value (the gateway sends '' for both).
 */
const userValue = (attribute: string, type?: string) =>
  `(select nullif(current_setting('${SETTING.attribute(attribute)}', true), '')${type ? `::${type}` : ''})`;

/** A column's type as a cast names it: a serial key is its integer type. */
const castType = (columnType: string | undefined) =>
  (columnType &&
    ({ serial: 'int', smallserial: 'smallint', bigserial: 'bigint' } as Record<string, string>)[
      columnType
    ]) ||
  columnType;

/**
 * A captured condition (captured-filter.ts) in SQL on `meta`'s columns, as MikroORM renders it for
 * the gateway: a comparison with null is `is null` / `is not null`, an empty `in` matches nothing.
 */
function conditionSql(meta: EntityMetadata, condition: Condition): string {
  if ('and' in condition) return `(${condition.and.map((part) => conditionSql(meta, part)).join(' and ')})`;
  if ('or' in condition) return `(${condition.or.map((part) => conditionSql(meta, part)).join(' or ')})`;
  if ('not' in condition) return `not (${conditionSql(meta, condition.not)})`;
  const prop = meta.properties[condition.property as never] as EntityMetadata['props'][number] | undefined;
  if (!prop?.fieldNames?.length)
    throw new Error(`${condition.property} is not a column of ${meta.className}`);
  const column = quoteIdent(prop.fieldNames[0]!);
  const operand = (each: Operand) =>
    'attribute' in each ? userValue(each.attribute, castType(prop.columnTypes[0])) : literal(each.literal);
  const { operator } = condition;
  if (Array.isArray(condition.operand)) {
    if (condition.operand.length === 0) return operator === 'in' ? 'false' : 'true';
    return `${column} ${COMPARISONS[operator]} (${condition.operand.map(operand).join(', ')})`;
  }
  if ('literal' in condition.operand && condition.operand.literal === null) {
    if (operator === 'eq') return `${column} is null`;
    if (operator === 'ne') return `${column} is not null`;
  }
  return `${column} ${COMPARISONS[operator]} ${operand(condition.operand)}`;
}

/** Whether a condition has an `or` or a `not`: a part of it may hold without the user's attributes. */
const branches = (condition: Condition): boolean =>
  'or' in condition || 'not' in condition || ('and' in condition && condition.and.some(branches));

/**
 * A global filter on `meta` in SQL: its condition, and no row at all when the user lacks an attribute
 * it reads — the gateway admits no row then either (security-model.ts `predicate`). A comparison with
 * a missing attribute is null, so only a condition with another branch needs saying so.
 */
function filterSql(meta: EntityMetadata, condition: Condition): string {
  const present = branches(condition)
    ? [...new Set(attributesOf(condition))].map((attribute) => `${userValue(attribute)} is not null`)
    : [];
  return [...present, conditionSql(meta, condition)].join(' and ');
}

/** The request is the superuser's. A scalar subquery: evaluated once per statement, not once per row. */
const SUPERUSER = `(select current_setting('${SETTING.superuser}', true) = 'on')`;

/** The request holds one of `roles` (a scalar subquery: evaluated once per statement). */
const holdsRole = (roles: string[]) =>
  `(select nullif(current_setting('${SETTING.roles}', true), '')::text[] && array[${roles.map(literal).join(', ')}])`;

/**
 * The grants of `meta` that filter rows, as the gateway applies them (security-model.ts
 * `predicateParts`): a user who holds a role with such grants sees only the rows one of its roles'
 * grants admits; a user who holds none of those roles, and the superuser, are not restricted by them.
 */
function grantsSql(model: PolicySource, meta: SecuredEntity): string | undefined {
  const byRole = new Map<string, string[]>();
  for (const grant of model.policy.grants.filter((each) => each.entity === meta.class && each.filter))
    byRole.set(grant.role, [...(byRole.get(grant.role) ?? []), filterSql(meta, model.conditionOf(grant))]);
  if (byRole.size === 0) return undefined;
  const admitted = [...byRole].map(
    ([role, conditions]) => `(${holdsRole([role])} and (${conditions.join(' or ')}))`,
  );
  return [SUPERUSER, `not ${holdsRole([...byRole.keys()])}`, ...admitted].join(' or ');
}

/** Role exemptions and the superuser, as the database sees them through the request's settings. */
function exemption(global: GlobalFilter): string {
  const roles = [...new Set([SUPERUSER_ROLE, ...global.rolesNotFiltered])].map(literal).join(', ');
  // The roles setting is a PostgreSQL array literal (rolesAsDatabaseArray): no role name can split in two.
  return (
    `select current_setting('${SETTING.superuser}', true) = 'on'` +
    ` or nullif(current_setting('${SETTING.roles}', true), '')::text[] && array[${roles}]`
  );
}

/**
 * Whether the declarations withhold some row of the entity from some user: a global filter applies to
 * it (even one the database cannot express: its rows are still not everyone's), it is scoped, or a
 * grant with a filter names it. Only such a table gets row-level security, because forced row security
 * with the base policy shows no row to any connection that is not a gateway request: every other
 * client of the database (any role but a superuser or one with BYPASSRLS, the tables' owner included)
 * reads and writes none. Where no row is withheld (a table shared by all tenants without a filter)
 * that would protect nothing and only blind those clients. Verbs alone (role permissions, grants
 * without a filter) withhold no row, and the policies do not carry verbs (they are `for all`): who may
 * touch a table at all is PostgreSQL's GRANT, which stays the team's.
 */
/**
 * What the policies are derived from: the compiled security model (security-model.ts), as far as the
 * policies read it. Declared here so that the model, which keeps its policies, is not imported back.
 */
export interface PolicySource {
  readonly policy: SecurityPolicy;
  securedEntities(): SecuredEntity[];
  entity(entityName: string): SecuredEntity;
  /** A global filter's or a grant's condition, captured as data. */
  conditionOf(rule: GlobalFilter | Grant): Condition;
  globalFiltersOn(meta: SecuredEntity): GlobalFilter[];
  /** The entity's scope: its parent, the parent's key column and the child's foreign-key column. */
  scopeOf(entityName: string): { parent: string; parentKey: string; foreignKey: string } | undefined;
}

function restrictsRows(model: PolicySource, meta: SecuredEntity): boolean {
  return (
    model.globalFiltersOn(meta).length > 0 ||
    model.scopeOf(meta.className) !== undefined ||
    model.policy.grants.some((grant) => grant.entity === meta.class && grant.filter !== undefined)
  );
}

/** Derives the policies from the compiled security model. */
export function databasePolicies(model: PolicySource): DatabasePolicies {
  // A view has no row security of its own (PostgreSQL refuses it): it reads its tables under theirs,
  // as its owner, whom forced row security does not exempt. The gateway filters it like a table.
  const secured = model.securedEntities().filter((meta) => !isView(meta));
  const entities = secured.filter((meta) => restrictsRows(model, meta));
  const policies: TablePolicy[] = [];
  const attributes = new Set<string>();
  for (const global of model.policy.globalFilters) {
    const condition = model.conditionOf(global);
    for (const meta of entities.filter((m) => model.globalFiltersOn(m).includes(global))) {
      policies.push({
        table: tableOf(meta),
        name: `${POLICY_PREFIX}${global.attribute}`,
        expression: `(${exemption(global)}) or (${filterSql(meta, condition)})`,
      });
    }
    attributesOf(condition).forEach((attribute) => attributes.add(attribute));
  }
  for (const meta of entities) {
    const grants = grantsSql(model, meta);
    if (grants) policies.push({ table: tableOf(meta), name: GRANTS_POLICY, expression: grants });
  }
  for (const grant of model.policy.grants.filter((each) => each.filter))
    attributesOf(model.conditionOf(grant)).forEach((attribute) => attributes.add(attribute));
  for (const meta of entities) {
    const scope = model.scopeOf(meta.className);
    if (!scope) continue;
    const parent = model.entity(scope.parent);
    policies.push({
      table: tableOf(meta),
      name: SCOPE_POLICY,
      expression:
        `${SUPERUSER} or exists (select 1 from ${quoteTable(tableOf(parent))} p` +
        ` where p.${quoteIdent(scope.parentKey)} = ${quoteTable(tableOf(meta))}.${quoteIdent(scope.foreignKey)})`,
    });
  }
  return {
    tables: entities.map(tableOf),
    unrestrictedTables: secured.filter((meta) => !entities.includes(meta)).map(tableOf),
    views: model.securedEntities().filter(isView).map(tableOf),
    policies,
    attributes: [...attributes].sort(),
  };
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
      `alter table ${quoteTable(table)} enable row level security, force row level security;`,
      `create policy ${quoteIdent(BASE_POLICY)} on ${quoteTable(table)} as permissive for all using (${BASE_EXPRESSION}) with check (${BASE_EXPRESSION});`,
    ]),
    ...plan.policies.map(
      (p) =>
        `create policy ${quoteIdent(p.name)} on ${quoteTable(p.table)} as restrictive for all using (${p.expression}) with check (${p.expression});`,
    ),
  ];
}
