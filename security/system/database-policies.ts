import { type EntityMetadata } from '@mikro-orm/core';
import { databaseArray, SUPERUSER_ROLE } from './identity.js';
import { type Verb } from './policy.js';
import { type CompiledFilter, type CompiledPolicy, entryOf } from './compiled-policy.js';
import { isView, type SecuredEntity } from './secured-entity.js';
import { attributesOf, type Condition } from './captured-filter.js';
import { conditionSql as renderCondition, type OperandValues } from './condition-sql.js';
import { compileConstant, sql } from './sql-fragment.js';

/**
 * The database's copy of the declarations (never written by hand), so that PostgreSQL alone, given the
 * request's settings, refuses what the gateway refuses:
 * - rows: each global filter becomes a RESTRICTIVE policy on every table that has its attribute, a
 *   table's filtered grants one RESTRICTIVE policy, and each scope a RESTRICTIVE policy that the parent
 *   row exists — PostgreSQL applies the parent's own policies inside that subquery, so the tenant
 *   boundary holds down the chain. A row must pass all of them, exactly as
 *   `(grant₁ OR grant₂ …) AND global₁ AND global₂ … AND <parent visible>` in the application layer;
 * - verbs: one PERMISSIVE policy per command on every table, admitting the requests that hold a role
 *   the role permissions and grants give the verb on the entity;
 * - field roles: a trigger refuses a write that changes a column none of the request's roles may use.
 * The request's user reaches PostgreSQL as transaction-local settings (see `databaseSettings`); without
 * them a connection sees no row of a table whose rows the declarations restrict (the verbs' policies
 * require them), and is not checked at all on the others (see `restrictsRows`).
 */

/** Settings the gateway sets per request with set_config(…, true). */
export const SETTING = {
  superuser: 'grantgate.superuser',
  roles: 'grantgate.roles',
  attribute: (name: string) => `grantgate.user.${name}`,
} as const;

/** Prefix of every policy grantgate manages; the migration replaces all of them at once. */
export const POLICY_PREFIX = 'grantgate_';
/** grantgate's policy names as a LIKE pattern: `_` escaped, since LIKE takes it for any character. */
export const POLICY_NAME_PATTERN = `${POLICY_PREFIX.replaceAll('_', '\\_')}%`;
/** The restrictive policy of a scoped table: its parent row must be visible. */
export const SCOPE_POLICY = `${POLICY_PREFIX}scope`;
/** The restrictive policy of a table some role's grants filter: that role sees the rows they admit. */
export const GRANTS_POLICY = `${POLICY_PREFIX}grants`;
/**
 * The permissive policy of each verb, one per command: every table needs a permissive policy
 * (restrictive ones alone admit no row), and each admits a request holding a role with the verb. On
 * a table whose rows the declarations restrict, only a transaction with the request's settings (see
 * `databaseSettings`): a connection without them sees no row, even of tables whose filters read no
 * user attribute. Being the permissive policy, a refusal by it names no policy ("new row violates
 * row-level security policy for table …"): a restrictive policy's refusal names its own.
 */
export const VERB_POLICIES: Record<Verb, string> = {
  read: `${POLICY_PREFIX}may_read`,
  insert: `${POLICY_PREFIX}may_insert`,
  update: `${POLICY_PREFIX}may_update`,
  delete: `${POLICY_PREFIX}may_delete`,
};
/** The function of the verbs' policies (see `verbExpression`). */
export const VERB_FUNCTION = `${POLICY_PREFIX}may`;
/** The trigger (and its function) that refuses a write of a column the request's roles may not use. */
export const FIELD_WRITES_TRIGGER = `${POLICY_PREFIX}field_writes`;
/** Names a global filter's policy may not take: `grantgate_<attribute>` beside these would collide. */
export const RESERVED_POLICY_NAMES = [
  SCOPE_POLICY,
  GRANTS_POLICY,
  ...Object.values(VERB_POLICIES),
  VERB_FUNCTION,
  FIELD_WRITES_TRIGGER,
];

type Command = 'select' | 'insert' | 'update' | 'delete';
const COMMANDS: Record<Verb, Command> = {
  read: 'select',
  insert: 'insert',
  update: 'update',
  delete: 'delete',
};

export interface TablePolicy {
  table: string;
  name: string;
  /** A verb's policy (permissive, for its command); else a restrictive policy for every command. */
  command?: Command;
  /** The boolean SQL expression of USING and WITH CHECK (of the one the command has). */
  expression: string;
  /** An update's USING, when it differs: which rows it may touch, where `expression` is whether it may. */
  using?: string;
}

/** A table's columns that only some roles may read and write, each with those roles. */
export interface FieldWrites {
  table: string;
  columns: { column: string; roles: string[] }[];
}

export interface DatabasePolicies {
  /** Tables whose rows the declarations restrict: only a request's settings see any row of them. */
  tables: string[];
  /**
   * Entity tables no rule restricts rows of: their policies check a request's verbs only, and every
   * other client of the database (no request settings) reads and writes them as before.
   */
  unrestrictedTables: string[];
  /** The views served (they have no row security of their own: see `databasePolicies`). */
  views: string[];
  policies: TablePolicy[];
  fieldWrites: FieldWrites[];
  /** The user attributes the policies read, each from the setting `grantgate.user.<attribute>`. */
  attributes: string[];
}

const quoteIdentifier = (name: string) => compileConstant(sql.id(name));
/** A constant of the declarations (a role, a column name) as SQL text. */
const sqlLiteral = (value: string) => compileConstant(sql.lit(value));

/**
 * A table as the policies name it: `customer`, or `sales.customer` outside the default schema (an
 * imported database's several schemas), quoted part by part in SQL.
 */
const tableOf = (meta: { schema?: string; tableName: string }) =>
  meta.schema && meta.schema !== 'public' ? `${meta.schema}.${meta.tableName}` : meta.tableName;
const quoteTable = (table: string) => table.split('.').map(quoteIdentifier).join('.');

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

/** The policies' operands: the user's values from the request's settings, the literals as constants. */
const settingValues: OperandValues = {
  attribute: (attribute, columnType) => sql.raw(userValue(attribute, castType(columnType))),
  literal: (value) => sql.lit(value),
};

/** A condition in a policy: on the table's own columns, unqualified, with no parameters. */
function conditionSql(meta: EntityMetadata, condition: Condition): string {
  return compileConstant(renderCondition(meta, condition, settingValues, (column) => sql.id(column)));
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
/**
 * The request's roles: the roles setting is a PostgreSQL array literal (rolesAsDatabaseArray), so no
 * role name can split in two.
 */
const REQUEST_ROLES = `nullif(current_setting('${SETTING.roles}', true), '')::text[]`;

/**
 * Declared roles as one array constant, written the way the request's are: one node in each plan
 * (`array['a', 'b']` is one per role, and a plan holds a copy per table a statement reads).
 */
const roleArray = (roles: string[]) => `${sqlLiteral(databaseArray(roles))}::text[]`;

/**
 * A verb's condition: the request is the superuser's or holds one of `roles` (none: the superuser
 * alone). On a table whose rows the declarations restrict, a connection without the request's settings
 * is refused; on the others it is not a gateway request and is left to PostgreSQL's GRANT. A call of
 * VERB_FUNCTION in a scalar subquery: one InitPlan of one call per table a statement reads, as small as
 * a plan node gets — every policy's plan is part of each prepared statement's memory
 * (src/db/preparing-client.ts), and a scope's policy holds its parent's policies, down the chain.
 */
const verbExpression = (roles: string[], restrictsRows: boolean) =>
  `(select ${VERB_FUNCTION}(${roleArray(roles)}, ${restrictsRows}))`;

/** The rows an update may touch: on a restricted table, only a request's (its settings present). */
const updatableRows = (restrictsRows: boolean) =>
  restrictsRows ? `(select current_setting('${SETTING.superuser}', true) in ('on', 'off'))` : 'true';

/** The request holds one of `roles` (a scalar subquery: evaluated once per statement). */
const holdsRole = (roles: string[]) => `(select ${REQUEST_ROLES} && ${roleArray(roles)})`;

/**
 * The grants of `meta` that filter rows, as the gateway applies them (security-model.ts
 * `predicateParts`): a user who holds a role with such grants sees only the rows one of its roles'
 * grants admits; a user who holds none of those roles, and the superuser, are not restricted by them.
 */
function grantsSql(model: PolicySource, meta: SecuredEntity): string | undefined {
  const byRole = new Map<string, string[]>();
  for (const grant of compiledEntity(model, meta).grants?.filter((each) => each.filtered) ?? [])
    byRole.set(grant.role, [
      ...(byRole.get(grant.role) ?? []),
      filterSql(meta, model.compiled.rules[grant.label]!),
    ]);
  if (byRole.size === 0) return undefined;
  const admitted = [...byRole].map(
    ([role, conditions]) => `(${holdsRole([role])} and (${conditions.join(' or ')}))`,
  );
  return [SUPERUSER, `not ${holdsRole([...byRole.keys()])}`, ...admitted].join(' or ');
}

/** Role exemptions and the superuser, as the database sees them through the request's settings. */
function exemption(global: CompiledFilter): string {
  const roles = [...new Set([SUPERUSER_ROLE, ...global.exempt])];
  return (
    `select current_setting('${SETTING.superuser}', true) = 'on'` +
    ` or ${REQUEST_ROLES} && ${roleArray(roles)}`
  );
}

/**
 * What the policies are derived from: the compiled policy, and the entities' metadata for their
 * tables and columns (security-model.ts). Declared here so that the model, which keeps its policies,
 * is not imported back.
 */
export interface PolicySource {
  readonly compiled: CompiledPolicy;
  securedEntities(): SecuredEntity[];
  entity(entityName: string): SecuredEntity;
  /** The roles that have `verb` on the entity (each alone: a user has it through any of them). */
  rolesWith(entityName: string, verb: Verb): string[];
}

const compiledEntity = (model: PolicySource, meta: SecuredEntity) => model.compiled.entities[meta.className]!;

/**
 * Whether the declarations withhold some row of the entity from some user: a global filter applies to
 * it, it is scoped, or a grant with a filter names it. Only such a table's verb policies require the
 * request's settings, because that shows no row to any connection that is not a gateway request: every
 * other client of the database (any role but a superuser or one with BYPASSRLS, the tables' owner
 * included) reads and writes none. Where no row is withheld (a table shared by all tenants without a
 * filter) that would protect nothing and only blind those clients: its policies check the verbs of a
 * gateway request and let every other client through.
 */
function restrictsRows(model: PolicySource, meta: SecuredEntity): boolean {
  const entity = compiledEntity(model, meta);
  return (
    (entity.filters ?? []).length > 0 ||
    entity.scope !== undefined ||
    (entity.grants ?? []).some((grant) => grant.filtered)
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
  for (const [label, global] of Object.entries(model.compiled.filters)) {
    const condition = model.compiled.rules[label]!;
    for (const meta of entities.filter((m) => compiledEntity(model, m).filters?.includes(label))) {
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
  for (const entity of Object.values(model.compiled.entities))
    for (const grant of entity.grants?.filter((each) => each.filtered) ?? [])
      attributesOf(model.compiled.rules[grant.label]!).forEach((attribute) => attributes.add(attribute));
  for (const meta of secured) {
    const restricted = entities.includes(meta);
    for (const [verb, name] of Object.entries(VERB_POLICIES) as [Verb, string][]) {
      const roles = model.rolesWith(meta.className, verb);
      policies.push({
        table: tableOf(meta),
        name,
        command: COMMANDS[verb],
        expression: verbExpression(roles, restricted),
        ...(verb === 'update' ? { using: updatableRows(restricted) } : {}),
      });
    }
  }
  for (const meta of entities) {
    const scope = compiledEntity(model, meta).scope;
    if (!scope) continue;
    const parent = model.entity(scope.parent);
    policies.push({
      table: tableOf(meta),
      name: SCOPE_POLICY,
      expression:
        `${SUPERUSER} or exists (select 1 from ${quoteTable(tableOf(parent))} p` +
        ` where p.${quoteIdentifier(scope.parentKey)} = ${quoteTable(tableOf(meta))}.${quoteIdentifier(scope.foreignKey)})`,
    });
  }
  return {
    tables: entities.map(tableOf),
    unrestrictedTables: secured.filter((meta) => !entities.includes(meta)).map(tableOf),
    views: model.securedEntities().filter(isView).map(tableOf),
    policies,
    fieldWrites: secured.flatMap((meta) => fieldWritesOf(model, meta)),
    attributes: [...attributes].sort(),
  };
}

/** The columns of `meta` some roles may not use, with the roles that may (none for a view: see above). */
function fieldWritesOf(model: PolicySource, meta: SecuredEntity): FieldWrites[] {
  const columns = meta.props.flatMap((prop) => {
    const roles = entryOf(compiledEntity(model, meta).fields, prop.name)?.roles;
    return roles && prop.fieldNames?.length === 1
      ? [{ column: prop.fieldNames[0]!, roles: roles.filter((role) => role !== SUPERUSER_ROLE) }]
      : [];
  });
  return columns.length > 0 ? [{ table: tableOf(meta), columns }] : [];
}

/**
 * Removes every grantgate policy, field-writes trigger and function, and turns row-level security off
 * on their tables.
 */
export const RESET_POLICIES = `do $$
declare target record;
begin
  for target in select distinct schemaname, tablename from pg_policies where policyname like '${POLICY_NAME_PATTERN}' loop
    execute format('alter table %I.%I no force row level security, disable row level security', target.schemaname, target.tablename);
  end loop;
  for target in select schemaname, tablename, policyname from pg_policies where policyname like '${POLICY_NAME_PATTERN}' loop
    execute format('drop policy %I on %I.%I', target.policyname, target.schemaname, target.tablename);
  end loop;
  for target in select tgrelid::regclass as target_table from pg_trigger where tgname = '${FIELD_WRITES_TRIGGER}' loop
    execute format('drop trigger ${FIELD_WRITES_TRIGGER} on %s', target.target_table);
  end loop;
  drop function if exists ${FIELD_WRITES_TRIGGER}();
  drop function if exists ${VERB_FUNCTION}(text[], boolean);
end $$;`;

/**
 * Whether the request may use a verb its `roles` have: the superuser may; a request (settings 'off')
 * may when it holds one of them; another connection (no settings) may only where the table's rows are
 * not `restricted`. STABLE and in PL/pgSQL, so that the planner keeps the call (an SQL function would
 * be inlined into every plan) and an InitPlan evaluates it once per statement.
 */
const VERB_FUNCTION_SQL = `create function ${VERB_FUNCTION}(roles text[], restricted boolean) returns boolean
language plpgsql stable as $$
begin
  return case current_setting('${SETTING.superuser}', true)
    when 'on' then true
    when 'off' then coalesce(nullif(current_setting('${SETTING.roles}', true), '')::text[] && roles, false)
    else not restricted
  end;
end $$;`;

/**
 * The field-writes trigger's function. Its arguments are pairs: a column and the roles (an array
 * literal) that may write it. A gateway request that is not the superuser's and holds none of a
 * column's roles may not change it: an update must keep the old value, an insert the column's default
 * (evaluated as the insert would). Another client of the database (no settings) is not checked.
 */
const FIELD_WRITES_FUNCTION = `create function ${FIELD_WRITES_TRIGGER}() returns trigger language plpgsql as $$
declare
  roles text[] := nullif(current_setting('${SETTING.roles}', true), '')::text[];
  written jsonb := to_jsonb(new);
  kept jsonb;
  default_sql text;
  column_type text;
  i int := 0;
begin
  if current_setting('${SETTING.superuser}', true) is distinct from 'off' then
    return new;
  end if;
  while i < tg_nargs loop
    if not coalesce(roles && tg_argv[i + 1]::text[], false) then
      if tg_op = 'UPDATE' then
        kept := to_jsonb(old) -> tg_argv[i];
      else
        select pg_get_expr(d.adbin, d.adrelid), format_type(a.atttypid, a.atttypmod)
          into default_sql, column_type
          from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
         where a.attrelid = tg_relid and a.attname = tg_argv[i];
        kept := null;
        if default_sql is not null then
          execute format('select to_jsonb((%s)::%s)', default_sql, column_type) into kept;
        end if;
      end if;
      if coalesce(written -> tg_argv[i], 'null') is distinct from coalesce(kept, 'null') then
        raise exception 'permission denied for column % of %', tg_argv[i], tg_table_name
          using errcode = '42501', hint = '${FIELD_WRITES_TRIGGER}', column = tg_argv[i], table = tg_table_name;
      end if;
    end if;
    i := i + 2;
  end loop;
  return new;
end $$;`;

/**
 * The migration's statements: drop every grantgate policy (and RLS on its table), then create the
 * current set. Replacing the whole set makes each generated migration a complete, idempotent state.
 */
export function policyStatements(plan: DatabasePolicies): string[] {
  return [
    RESET_POLICIES,
    VERB_FUNCTION_SQL,
    ...[...plan.tables, ...plan.unrestrictedTables].map(
      (table) => `alter table ${quoteTable(table)} enable row level security, force row level security;`,
    ),
    ...plan.policies.map((p) => {
      const on = `create policy ${quoteIdentifier(p.name)} on ${quoteTable(p.table)}`;
      if (!p.command)
        return `${on} as restrictive for all using (${p.expression}) with check (${p.expression});`;
      const permissive = `${on} as permissive for ${p.command}`;
      if (p.command === 'insert') return `${permissive} with check (${p.expression});`;
      // An update of a row the request may read but not change is an error, as in the gateway, not a
      // silent update of no row.
      if (p.command === 'update') return `${permissive} using (${p.using}) with check (${p.expression});`;
      return `${permissive} using (${p.expression});`;
    }),
    ...(plan.fieldWrites.length > 0 ? [FIELD_WRITES_FUNCTION] : []),
    ...plan.fieldWrites.map(
      ({ table, columns }) =>
        `create trigger ${FIELD_WRITES_TRIGGER} before insert or update on ${quoteTable(table)} for each row execute function ${FIELD_WRITES_TRIGGER}(${columns
          .flatMap(({ column, roles }) => [sqlLiteral(column), sqlLiteral(databaseArray(roles))])
          .join(', ')});`,
    ),
  ];
}
