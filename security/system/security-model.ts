import { type EntityProperty, type FilterQuery, type MetadataStorage } from '@mikro-orm/core';
import { type Condition } from './captured-filter.js';
import {
  type CompiledPolicy,
  type CompiledScope,
  entityDecisions,
  entryOf,
  type TenantCoverage,
} from './compiled-policy.js';
import {
  databasePolicies,
  type DatabasePolicies,
  GRANTS_POLICY,
  POLICY_PREFIX,
  SCOPE_POLICY,
  SETTING,
} from './database-policies.js';
import {
  attributeValue,
  type AuthUser,
  effectiveRoles,
  isSuperuser,
  rolesAsDatabaseArray,
  type ScalarValue,
} from './identity.js';
import { compilePolicy } from './policy-compiler.js';
import { type SecurityPolicy, type Verb } from './policy.js';
import { type SecuredEntity, securedEntitiesOf } from './secured-entity.js';
import { boundValues, inlineValues, userConditionSql } from './condition-sql.js';
import { anyOf, atomic, FALSE, type RowSql, sql, type SqlFragment, tableSql } from './sql-fragment.js';
import { sqlCondition } from './row-security.js';

/** One conjunct of a row predicate and the rule (or, for the grants, the rules) it comes from. */
export interface PredicatePart {
  kind: 'grants' | 'global filter' | 'scope';
  label: string;
  sql: SqlFragment;
}

/** How `rowSql` renders: on which alias, at which depth of scopes, with values bound or written out. */
export interface RowSqlOptions {
  /** A relation to rows the enclosing query read through their own condition: see RowAccess.rowSql. */
  parentsVisibleThrough?: string;
  /** How many scope subqueries enclose this one: each level's parent row gets its own alias. */
  depth?: number;
  /** `inline`: the values written out, for a person to read (security:explain); else bound. */
  values?: 'bound' | 'inline';
}

/** A rule that applies to a user on an entity, as `security:explain` and the console show it. */
export interface AppliedRule {
  kind:
    | 'superuser'
    | 'role permission'
    | 'grant'
    | 'tenant filter'
    | 'global filter'
    | 'scope'
    | 'shared'
    | 'no aggregates';
  label: string;
}

/** The verbs as the API names them (`create` is the policy's `insert`). */
export const API_VERBS = { read: 'read', create: 'insert', update: 'update', delete: 'delete' } as const;
export type ApiVerb = keyof typeof API_VERBS;

type Decisions = ReturnType<typeof entityDecisions>;

/**
 * The compiled policy (compiled-policy.ts), with the ORM's metadata, as the one object that answers
 * every security question: the row predicate (grants, global filters, scopes through relations),
 * verbs, field roles, insert stamps, coverage and the database's policies. The MikroORM filter, the
 * API operations, the field auth checker, explain and the policy generator ask it; none of them
 * decides alone, and it decides from the compiled data only (`entityDecisions`), never from the
 * declarations.
 */
export class SecurityModel {
  /** Which entities the tenant filter covers, and how. Empty when no tenant filter is declared. */
  readonly coverage: ReadonlyMap<string, TenantCoverage>;
  /** The declarations as PostgreSQL policies: the second layer. */
  readonly databasePolicies: DatabasePolicies;
  private readonly entities: Map<string, SecuredEntity>;
  private readonly decided = new Map<string, Decisions>();

  constructor(
    readonly compiled: CompiledPolicy,
    metadata: MetadataStorage,
  ) {
    const secured = securedEntitiesOf(metadata);
    this.entities = new Map(
      Object.keys(compiled.entities).map((name) => {
        const meta = secured.get(name);
        if (!meta) throw new Error(`row security: the compiled policy names ${name}, which is not an entity`);
        return [name, meta];
      }),
    );
    this.coverage = new Map(
      Object.entries(compiled.entities).flatMap(([name, entity]) =>
        entity.coverage ? [[name, entity.coverage]] : [],
      ),
    );
    this.databasePolicies = databasePolicies(this);
  }

  /** A filtering rule's condition, as captured when it was declared (captured-filter.ts). */
  conditionOf(label: string): Condition {
    return this.compiled.rules[label]!;
  }

  /** The table-backed entities, in a stable order. */
  securedEntities(): SecuredEntity[] {
    return [...this.entities.values()].sort((a, b) => a.tableName.localeCompare(b.tableName));
  }

  entity(entityName: string): SecuredEntity {
    const meta = this.entities.get(entityName);
    if (!meta) throw new Error(`row security: unknown entity ${entityName}`);
    return meta;
  }

  scopeOf(entityName: string): CompiledScope | undefined {
    return entryOf(this.compiled.entities, entityName)?.scope;
  }

  /**
   * The attributes an insert may omit because the user's own value is stamped in (SPEC §5): those of
   * the global filters. Create inputs leave them optional even where the column is NOT NULL.
   */
  stampedAttributes(): string[] {
    return [...new Set(Object.values(this.compiled.filters).map((global) => global.attribute))];
  }

  /** The user's value of an attribute, or undefined when it cannot stand in a filter (see `attributeValue`). */
  userValue(user: AuthUser, attribute: string): ScalarValue | undefined {
    return attributeValue(user, attribute, entryOf(this.compiled.attributes, attribute) ?? 'any');
  }

  /**
   * The condition that limits `entityName` to what `user` may see, as a MikroORM condition (the
   * security filter, and the maintenance counts of security:diff); `{}` for the superuser. See `rowSql`.
   */
  predicate(user: AuthUser, entityName: string): FilterQuery<object> {
    return sqlCondition((row) => this.rowSql(user, entityName, row));
  }

  /**
   * The condition that limits `entityName`, on the row `row` (its alias), to what `user` may see;
   * undefined when it sees every row (the superuser, or no rule applies):
   * `(grant₁ OR grant₂ …) AND global₁ AND … AND <parent visible>` (SPEC §5), each rendered from its
   * captured condition (condition-sql.ts, the renderer of the database's policies too), joined by
   * `and` without parentheses around them. A scope is a semi-join on the parent's key (see
   * `scopeSql`), never a join, so it neither multiplies nor drops rows.
   */
  rowSql(
    user: AuthUser,
    entityName: string,
    row: string,
    options: RowSqlOptions = {},
  ): SqlFragment | undefined {
    if (isSuperuser(user)) return undefined;
    const parts = this.predicateParts(user, entityName, row, options);
    // A conjunction as it is, without parentheses around it (it reads as the rules do): every use
    // puts it among other `and`s or parenthesises it (`sqlCondition`).
    if (parts.length <= 1) return parts[0]?.sql;
    return sql.join(
      parts.map((part) => part.sql),
      sql` and `,
    );
  }

  /**
   * The conjuncts of `rowSql`, each with the rule it comes from: what a denial names when a written
   * row fails one of them. A rule the user lacks a value for admits no row (`false`).
   */
  predicateParts(
    user: AuthUser,
    entityName: string,
    row: string,
    options: RowSqlOptions = {},
  ): PredicatePart[] {
    const decided = this.decisions(user, entityName);
    const meta = this.entity(entityName);
    const column = (name: string) => sql.id(row, name);
    const valueOf = (attribute: string) => this.userValue(user, attribute);
    const render = options.values === 'inline' ? inlineValues : boundValues;
    const filter = (label: string) =>
      userConditionSql(meta, this.conditionOf(label), valueOf, column, render);
    const parts: PredicatePart[] = [];
    if (decided.rowGrants.length > 0) {
      parts.push({
        kind: 'grants',
        label: decided.rowGrants.join(' or '),
        sql: anyOf(decided.rowGrants.map(filter)),
      });
    }
    for (const label of decided.filters) parts.push({ kind: 'global filter', label, sql: filter(label) });
    if (decided.withheldBy) parts.push({ kind: 'global filter', label: decided.withheldBy, sql: FALSE });
    const scope = decided.entity.scope;
    if (scope && scope.through !== options.parentsVisibleThrough)
      parts.push({
        kind: 'scope',
        label: scope.label,
        sql: this.scopeSql(user, scope, row, (options.depth ?? 0) + 1, options.values),
      });
    return parts;
  }

  /**
   * A scope's condition: the row's parent (through the scope's relation) is a row `user` may see. A
   * row without a parent belongs to no tenant: only the superuser sees it. A correlated `exists` on the
   * parent's key, the same form as the database's scope policy, under an `or false` that keeps
   * PostgreSQL from pulling it up into a join (it pulls up sublinks before it simplifies the `or`), so
   * that it plans it as a subplan with two alternatives and picks one per statement: a hash of every
   * visible parent, built once (few parents, or a count that visits every row), or a look-up of each
   * row's parent by its primary key (a page of rows out of many parents: the request's `work_mem`, see
   * src/db/request-transaction.ts, keeps a large parent set from being hashed). An uncorrelated
   * `in (select …)` has only the hash, whose cost grows with the tenant's parents whatever the page
   * (S3 at scale 500: 0.28× its demo throughput).
   */
  private scopeSql(
    user: AuthUser,
    scope: CompiledScope,
    row: string,
    depth: number,
    values: RowSqlOptions['values'],
  ): SqlFragment {
    const foreignKey = sql.id(row, scope.foreignKey);
    const parent = `v${depth}`;
    const parentRows = this.rowSql(user, scope.parent, parent, { depth, values });
    if (!parentRows) return atomic(sql`${foreignKey} is not null`);
    return atomic(
      sql`(exists (select 1 from ${tableSql(this.entity(scope.parent))} as ${sql.id(parent)} where ${sql.id(parent, scope.parentKey)} = ${foreignKey} and ${parentRows}) or false)`,
    );
  }

  /**
   * The column of `entityName.relation` on a row and the keys of the related rows `user` may see, or
   * undefined when every related row is visible or the relation is the entity's scope (whose predicate
   * already requires it).
   */
  private relatedKeys(
    user: AuthUser,
    entityName: string,
    relation: string,
  ): { column: string; keys: SqlFragment } | undefined {
    if (this.scopeOf(entityName)?.through === relation) return undefined;
    const prop = this.entity(entityName).properties[relation as never] as EntityProperty | undefined;
    if (!prop?.targetMeta) throw new Error(`row security: ${entityName}.${relation} is not a relation`);
    const target = this.entity(prop.targetMeta.className);
    const rows = this.rowSql(user, target.className, 'v0');
    if (!rows) return undefined;
    const targetKey = target.properties[target.primaryKeys[0] as never]!.fieldNames[0]!;
    return {
      column: prop.fieldNames[0]!,
      keys: sql`select ${sql.id('v0', targetKey)} from ${tableSql(target)} as v0 where ${rows}`,
    };
  }

  /**
   * The condition, on the row `row`, that `entityName.relation` points at a row the user can see, or
   * undefined when that needs no condition (see `relatedKeys`). A condition on a relation id matches
   * only through these rows. Under `or false`, like a scope (see `scopeSql`): PostgreSQL then
   * evaluates it as a hashed subplan filter, as it does the database's own policy, instead of pulling
   * it up into a join whose row estimate — multiplied by the policies' conditions on per-request
   * settings it cannot see when planning — can be wrong by orders of magnitude (measured: a tenant's
   * whole order table fetched and sorted to return 200 rows, 10x slower).
   */
  relatedRowVisible(user: AuthUser, entityName: string, relation: string): RowSql | undefined {
    const related = this.relatedKeys(user, entityName, relation);
    return related && ((row) => atomic(sql`(${sql.id(row, related.column)} in (${related.keys}) or false)`));
  }

  /**
   * The sort key, on the row `row`, of `entityName.relation`'s id as the user may see it: the id where
   * the related row is visible, null where it is hidden (sorting by the raw foreign key would place a
   * hidden row by its id). Undefined when the plain foreign key reveals nothing.
   */
  relatedSortKey(user: AuthUser, entityName: string, relation: string): RowSql | undefined {
    const related = this.relatedKeys(user, entityName, relation);
    if (!related) return undefined;
    return (row) => {
      const column = sql.id(row, related.column);
      return sql`(case when ${column} in (${related.keys}) then ${column} end)`;
    };
  }

  /** True when a role permission or a grant of one of the user's roles allows `verb` on the entity. */
  allows(user: AuthUser, entityName: string, verb: Verb): boolean {
    return isSuperuser(user) || this.decisions(user, entityName).allows(verb);
  }

  /**
   * The roles that have `verb` on the entity, each alone. `allows` asks whether any of a user's roles
   * has it, so a user has the verb exactly when it holds one of these (or is the superuser): a role
   * the declarations do not name has no verb anywhere.
   */
  rolesWith(entityName: string, verb: Verb): string[] {
    return this.compiled.roles.filter((role) =>
      entityDecisions(this.compiled, entityName, [role]).allows(verb),
    );
  }

  /** The roles that may read (and so filter on, sort on and write) a field; undefined: every reader. */
  fieldRolesOf(entityName: string, field: string): readonly string[] | undefined {
    return entryOf(entryOf(this.compiled.entities, entityName)?.fields, field)?.roles;
  }

  /**
   * True when `user` may aggregate the entity (count, sum, group its rows): one of its roles that
   * reads it is not denied aggregates by a `noAggregates` declaration. Reading is asked apart (`allows`).
   */
  mayAggregate(user: AuthUser, entityName: string): boolean {
    return isSuperuser(user) || this.decisions(user, entityName).mayAggregate;
  }

  /**
   * The `noAggregates` rule that keeps `user` from aggregating an entity it reads; undefined when it
   * may aggregate it, or reads nothing of it (then the verb is what it lacks: `verbDenial`).
   */
  aggregateDenial(user: AuthUser, entityName: string): string | undefined {
    return isSuperuser(user) ? undefined : this.decisions(user, entityName).aggregatesWithheldBy;
  }

  /** True when `user` may read the field `entityName.field`. */
  mayUseField(user: AuthUser, entityName: string, field: string): boolean {
    return isSuperuser(user) || this.decisions(user, entityName).mayUseField(field);
  }

  /** True when a scope limits `user`'s rows of the entity to those whose parent it may see. */
  throughScope(user: AuthUser, entityName: string): boolean {
    return !isSuperuser(user) && this.scopeOf(entityName) !== undefined;
  }

  /**
   * The global-filter attributes of the entity that constrain this user (not exempt by a role): an
   * insert stamps them from the user when omitted, and a write may not set them to another value.
   */
  constrainedAttributes(user: AuthUser, entityName: string): string[] {
    if (isSuperuser(user)) return [];
    return this.decisions(user, entityName).filters.map((label) => this.compiled.filters[label]!.attribute);
  }

  /**
   * The transaction-local settings that tell the database's policies who a request is for: the
   * superuser flag, the roles as one array literal (no name can split in two), and each attribute the
   * policies read ('' when the user has no usable value: it reads as NULL, which admits no row).
   */
  databaseSettings(user: AuthUser): [string, string][] {
    return [
      [SETTING.superuser, isSuperuser(user) ? 'on' : 'off'],
      [SETTING.roles, rolesAsDatabaseArray(user)],
      ...this.databasePolicies.attributes.map((attribute): [string, string] => [
        SETTING.attribute(attribute),
        String(this.userValue(user, attribute) ?? ''),
      ]),
    ];
  }

  /**
   * The labels of the rules that limit which rows of the entity `user` reads (grants, global filters,
   * a withholding filter, the scope), as traces name them; none for the superuser.
   */
  ruleLabels(user: AuthUser, entityName: string): string[] {
    if (isSuperuser(user)) return [];
    const decided = this.decisions(user, entityName);
    const scope = decided.entity.scope;
    return [
      ...decided.rowGrants,
      ...decided.filters,
      ...(decided.withheldBy ? [decided.withheldBy] : []),
      ...(scope ? [scope.label] : []),
    ];
  }

  /** Names of the rules that apply, for the debug log. */
  describe(user: AuthUser, entityName: string) {
    if (isSuperuser(user)) return 'superuser';
    const decided = this.decisions(user, entityName);
    const scope = decided.entity.scope;
    return {
      grants: decided.rowGrants,
      globalFilters: decided.filters.map((label) => this.compiled.filters[label]!.attribute),
      scope: scope ? `through ${scope.through} (${scope.parent})` : undefined,
    };
  }

  /** Each API verb and whether `user` has it on the entity. */
  verbs(user: AuthUser, entityName: string): Record<ApiVerb, boolean> {
    const verbs = {} as Record<ApiVerb, boolean>;
    for (const [verb, policyVerb] of Object.entries(API_VERBS) as [ApiVerb, Verb][]) {
      verbs[verb] = this.allows(user, entityName, policyVerb);
    }
    return verbs;
  }

  /**
   * Every rule that applies to `user` on the entity, in declaration order by kind: the role
   * permissions and grants that give (or withhold) verbs, then what limits the rows, then the rule
   * that keeps the user from aggregating them.
   */
  rulesFor(user: AuthUser, entityName: string): AppliedRule[] {
    if (isSuperuser(user)) {
      return [{ kind: 'superuser', label: 'The superuser (role sa): no check and no filter applies.' }];
    }
    const decided = this.decisions(user, entityName);
    const { scope, shared } = decided.entity;
    return [
      ...decided.permissions.map((permission): AppliedRule => ({
        kind: 'role permission',
        label: permission.label,
      })),
      ...decided.grants.map((grant): AppliedRule => ({ kind: 'grant', label: grant.label })),
      ...decided.filters.map((label): AppliedRule => ({
        kind: this.compiled.filters[label]!.tenant ? 'tenant filter' : 'global filter',
        label,
      })),
      ...(scope ? [{ kind: 'scope', label: scope.label } as AppliedRule] : []),
      ...(shared ? [{ kind: 'shared', label: shared } as AppliedRule] : []),
      ...(decided.aggregatesWithheldBy
        ? [{ kind: 'no aggregates', label: decided.aggregatesWithheldBy } as AppliedRule]
        : []),
    ];
  }

  /**
   * The rule that withholds `verb` on the entity from `user`: the role permissions and grants of its
   * roles that set the verb false, or, when no rule of its roles mentions the entity, that absence.
   */
  verbDenial(user: AuthUser, entityName: string, verb: Verb): string {
    const decided = this.decisions(user, entityName);
    const withheld = [...decided.permissions, ...decided.grants].filter((rule) => !rule.verbs.includes(verb));
    if (withheld.length > 0) return withheld.map((rule) => rule.label).join(' and ');
    if (verb !== 'read' && decided.entity.shared)
      return `${entityName} is shared by all tenants, and shared rows are written only by sa and the roles a grant on ${entityName} names (${decided.entity.shared})`;
    return `No role permission or grant gives ${effectiveRoles(user).join(', ')} ${verb} on ${entityName}.`;
  }

  /** The rule that keeps a field from a user: its `restrictFields` declaration. */
  fieldDenial(entityName: string, field: string): string {
    return (
      entryOf(entryOf(this.compiled.entities, entityName)?.fields, field)?.label ?? `${entityName}.${field}`
    );
  }

  /** Every restricted field, as `[entity, field]`: the API marks them for the field check. */
  restrictedFields(): [entityName: string, field: string][] {
    return Object.entries(this.compiled.entities).flatMap(([entityName, entity]) =>
      Object.keys(entity.fields ?? {}).map((field): [string, string] => [entityName, field]),
    );
  }

  /** The rule a database policy of grantgate's on the entity's table comes from (see database-policies.ts). */
  databasePolicyLabel(entityName: string, policyName: string, user?: AuthUser): string | undefined {
    if (policyName === SCOPE_POLICY) return this.scopeOf(entityName)?.label;
    // The grants of the user's roles, as the gateway names the part they make (predicateParts).
    if (policyName === GRANTS_POLICY && user) {
      const grants = this.decisions(user, entityName).rowGrants;
      return grants.length > 0 ? grants.join(' or ') : undefined;
    }
    return Object.keys(this.compiled.filters).find(
      (label) => `${POLICY_PREFIX}${this.compiled.filters[label]!.attribute}` === policyName,
    );
  }

  /** The global filter that constrains `attribute` of the entity for `user` (what a write must keep). */
  globalFilterLabel(user: AuthUser, entityName: string, attribute: string): string | undefined {
    return this.decisions(user, entityName).filters.find(
      (label) => this.compiled.filters[label]!.attribute === attribute,
    );
  }

  /** Which rules apply depends only on the roles and the entity: decided once per (roles, entity). */
  private decisions(user: AuthUser, entityName: string): Decisions {
    const roles = effectiveRoles(user);
    // JSON, not a join: a role name may contain any character.
    const key = `${JSON.stringify([...roles].sort())}|${entityName}`;
    let decided = this.decided.get(key);
    if (!decided) {
      decided = entityDecisions(this.compiled, entityName, roles);
      this.decided.set(key, decided);
    }
    return decided;
  }
}

/** Compiles and checks the declarations against the entities; throws SecurityDeclarationError. */
export function compileSecurityModel(policy: SecurityPolicy, metadata: MetadataStorage): SecurityModel {
  return new SecurityModel(compilePolicy(policy, metadata), metadata);
}
