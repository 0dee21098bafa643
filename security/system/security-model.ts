import {
  type EntityClass,
  type EntityProperty,
  type FilterQuery,
  type MetadataStorage,
  ReferenceKind,
} from '@mikro-orm/core';
import {
  databasePolicies,
  type DatabasePolicies,
  GRANTS_POLICY,
  POLICY_PREFIX,
  RESERVED_POLICY_NAMES,
  SCOPE_POLICY,
  SETTING,
} from './database-policies.js';
import {
  type AttributeKind,
  attributeValue,
  type AuthUser,
  effectiveRoles,
  isSuperuser,
  PUBLIC_ROLE,
  rolesAsDatabaseArray,
  type ScalarValue,
  SUPERUSER_ROLE,
} from './identity.js';
import {
  type FieldRule,
  type GlobalFilter,
  type Grant,
  type RowFilter,
  type SecurityPolicy,
  type Verb,
} from './policy.js';
import { isView, type SecuredEntity } from './secured-entity.js';
import { captureFilter, comparedAttributes, type Condition } from './captured-filter.js';
import { Uncapturable } from './symbolic-filter.js';
import { boundValues, inlineValues, userConditionSql } from './condition-sql.js';
import { anyOf, atomic, FALSE, type RowSql, sql, type SqlFragment, tableSql } from './sql-fragment.js';
import { sqlCondition } from './row-security.js';

/** A mistake in a domain's declare-security.ts: start-up and the security CLIs stop with this one line. */
export class SecurityDeclarationError extends Error {}

/** A scope through a to-one relation, with what the database's policy needs to follow it. */
export interface ScopeRule {
  label: string;
  relation: string;
  parent: string;
  /** The child's foreign-key column and the parent's key column it references. */
  foreignKey: string;
  parentKey: string;
}

/** How the tenant filter covers an entity (SPEC §5, coverage). */
/**
 * `withheld`: a view no declaration covers. A view shows its tables' rows under rules of its own, so
 * one left undecided is read by the roles the tenant filter exempts only (fail closed, and no refusal
 * to start: an imported database's views are many, and each is the team's to decide on).
 */
export type TenantCoverage = 'column' | 'scope' | 'shared' | 'withheld';

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
  kind: 'superuser' | 'role permission' | 'grant' | 'tenant filter' | 'global filter' | 'scope' | 'shared';
  label: string;
}

/** The verbs as the API names them (`create` is the policy's `insert`). */
export const API_VERBS = { read: 'read', create: 'insert', update: 'update', delete: 'delete' } as const;
export type ApiVerb = keyof typeof API_VERBS;

interface EntityPlan {
  /** Filtered grants of the user's roles: at least one must admit the row (none: no grant restriction). */
  grants: Grant[];
  /** Global filters on the entity that the user's roles are not exempt from: all must admit the row. */
  globals: GlobalFilter[];
  scope?: ScopeRule;
  /** The tenant filter, when it withholds an uncovered view from these roles entirely. */
  withheldBy?: GlobalFilter;
}

/**
 * The declarations compiled once, with the ORM's metadata, into the one object that answers every
 * security question: the row predicate (grants, global filters, scopes through relations), verbs,
 * field roles, insert stamps, coverage and the database's policies. The MikroORM filter, the API
 * operations, the field auth checker and the policy generator ask it; none of them decides alone.
 */
export class SecurityModel {
  /** Which entities the tenant filter covers, and how. Empty when no tenant filter is declared. */
  readonly coverage: ReadonlyMap<string, TenantCoverage>;
  /** The declarations as PostgreSQL policies: the second layer. */
  readonly databasePolicies: DatabasePolicies;
  private readonly entities: Map<string, SecuredEntity>;
  private readonly scopes: Map<string, ScopeRule>;
  private readonly attributeKinds: Map<string, AttributeKind>;
  /** Per entity, each restricted field's rule (restrictFields). */
  private readonly fieldRules: Map<string, Map<string, FieldRule>>;
  /** Every global filter's and grant filter's condition, captured as data. */
  private readonly conditions: Map<GlobalFilter | Grant, Condition>;
  private readonly plans = new Map<string, EntityPlan>();

  constructor(
    readonly policy: SecurityPolicy,
    metadata: MetadataStorage,
  ) {
    this.entities = new Map(
      [...metadata.getAll().values()]
        // A view without a key is a virtual entity that reads it: secured like any other.
        .filter((meta) => !meta.embeddable && (!meta.virtual || isView(meta)) && meta.tableName)
        .map((meta) => [meta.className, meta]),
    );
    const check = new DeclarationChecks(policy, this.entities);
    this.scopes = check.scopes();
    this.conditions = check.capturedFilters();
    check.distinctLabels(this.conditions);
    check.globalFilters(this.conditions);
    check.grants();
    this.coverage = check.coverage(this.scopes);
    this.attributeKinds = attributeKinds(policy, this.entities, this.conditions);
    this.fieldRules = check.fieldRules();
    this.databasePolicies = databasePolicies(this);
  }

  /** A global filter's or a grant's condition, as captured when it was declared (captured-filter.ts). */
  conditionOf(rule: GlobalFilter | Grant): Condition {
    return this.conditions.get(rule)!;
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

  scopeOf(entityName: string): ScopeRule | undefined {
    return this.scopes.get(entityName);
  }

  /**
   * The attributes an insert may omit because the user's own value is stamped in (SPEC §5): those of
   * the global filters. Create inputs leave them optional even where the column is NOT NULL.
   */
  stampedAttributes(): string[] {
    return [...new Set(this.policy.globalFilters.map((global) => global.attribute))];
  }

  /** Global filters that constrain `meta`: those whose attribute is one of its properties. */
  globalFiltersOn(meta: SecuredEntity): GlobalFilter[] {
    return this.policy.globalFilters.filter((global) => global.attribute in meta.properties);
  }

  /** The kind of column a user attribute is compared with, as far as the filters tell. */
  private attributeKind(attribute: string): AttributeKind {
    return this.attributeKinds.get(attribute) ?? 'any';
  }

  /** The user's value of an attribute, or undefined when it cannot stand in a filter (see `attributeValue`). */
  userValue(user: AuthUser, attribute: string): ScalarValue | undefined {
    return attributeValue(user, attribute, this.attributeKind(attribute));
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
    const plan = this.plan(effectiveRoles(user), entityName);
    const meta = this.entity(entityName);
    const column = (name: string) => sql.id(row, name);
    const valueOf = (attribute: string) => this.userValue(user, attribute);
    const render = options.values === 'inline' ? inlineValues : boundValues;
    const filter = (rule: GlobalFilter | Grant) =>
      userConditionSql(meta, this.conditionOf(rule), valueOf, column, render);
    const parts: PredicatePart[] = [];
    if (plan.grants.length > 0) {
      parts.push({
        kind: 'grants',
        label: plan.grants.map((grant) => grant.label).join(' or '),
        sql: anyOf(plan.grants.map(filter)),
      });
    }
    for (const global of plan.globals)
      parts.push({ kind: 'global filter', label: global.label, sql: filter(global) });
    if (plan.withheldBy) parts.push({ kind: 'global filter', label: plan.withheldBy.label, sql: FALSE });
    if (plan.scope && plan.scope.relation !== options.parentsVisibleThrough)
      parts.push({
        kind: 'scope',
        label: plan.scope.label,
        sql: this.scopeSql(user, plan.scope, row, (options.depth ?? 0) + 1, options.values),
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
    scope: ScopeRule,
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
    if (this.scopes.get(entityName)?.relation === relation) return undefined;
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

  /**
   * True when a role permission or a Grant of one of the user's roles allows `verb` on the entity. A
   * shared entity's rows are every tenant's to read and no tenant's to change: a role permission
   * gives it no write, only a grant naming the entity does (or the superuser).
   */
  allows(user: AuthUser, entityName: string, verb: Verb): boolean {
    if (isSuperuser(user)) return true;
    const roles = effectiveRoles(user);
    const readOnlyToRoles = verb !== 'read' && this.isShared(entityName);
    return (
      (!readOnlyToRoles &&
        this.policy.rolePermissions.some(
          (permission) =>
            permission.verbs[verb] !== false && permission.roles.some((role) => roles.includes(role)),
        )) ||
      this.policy.grants.some(
        (grant) =>
          grant.verbs[verb] !== false &&
          roles.includes(grant.role) &&
          this.classNameOf(grant.entity) === entityName,
      )
    );
  }

  /** Every role the declarations name, `public` (a user without roles) among them; `sa` apart. */
  namedRoles(): string[] {
    const { policy } = this;
    const named = [
      PUBLIC_ROLE,
      ...policy.rolePermissions.flatMap((permission) => permission.roles),
      ...policy.grants.map((grant) => grant.role),
      ...policy.globalFilters.flatMap((global) => global.rolesNotFiltered),
      ...policy.fieldRules.flatMap((rule) => rule.roles),
    ];
    return [...new Set(named)].filter((role) => role !== SUPERUSER_ROLE).sort();
  }

  /**
   * The roles that have `verb` on the entity, each alone. `allows` asks whether any of a user's roles
   * has it, so a user has the verb exactly when it holds one of these (or is the superuser): a role
   * the declarations do not name has no verb anywhere.
   */
  rolesWith(entityName: string, verb: Verb): string[] {
    return this.namedRoles().filter((role) =>
      this.allows({ id: `role ${role}`, name: null, roles: [role], attributes: {} }, entityName, verb),
    );
  }

  /** True for an entity declared sharedByAllTenants. */
  private isShared(entityName: string): boolean {
    return this.policy.sharedLabels.has(this.entity(entityName).class);
  }

  /** The roles that may read (and so filter on, sort on and write) a field; undefined: every reader. */
  fieldRolesOf(entityName: string, field: string): readonly string[] | undefined {
    return this.fieldRules.get(entityName)?.get(field)?.roles;
  }

  /** True when `user` may read the field `entityName.field`. */
  mayUseField(user: AuthUser, entityName: string, field: string): boolean {
    const roles = this.fieldRolesOf(entityName, field);
    return !roles || isSuperuser(user) || roles.some((role) => effectiveRoles(user).includes(role));
  }

  /** True when a scope limits `user`'s rows of the entity to those whose parent it may see. */
  throughScope(user: AuthUser, entityName: string): boolean {
    return !isSuperuser(user) && this.plan(effectiveRoles(user), entityName).scope !== undefined;
  }

  /**
   * The global-filter attributes of the entity that constrain this user (not exempt by a role): an
   * insert stamps them from the user when omitted, and a write may not set them to another value.
   */
  constrainedAttributes(user: AuthUser, entityName: string): string[] {
    if (isSuperuser(user)) return [];
    return this.plan(effectiveRoles(user), entityName).globals.map((global) => global.attribute);
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

  /** Names of the rules that apply, for the debug log. */
  describe(user: AuthUser, entityName: string) {
    if (isSuperuser(user)) return 'superuser';
    const plan = this.plan(effectiveRoles(user), entityName);
    return {
      grants: plan.grants.map((g) => g.label),
      globalFilters: plan.globals.map((g) => g.attribute),
      scope: plan.scope ? `through ${plan.scope.relation} (${plan.scope.parent})` : undefined,
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
   * permissions and grants that give (or withhold) verbs, then what limits the rows.
   */
  rulesFor(user: AuthUser, entityName: string): AppliedRule[] {
    if (isSuperuser(user)) {
      return [{ kind: 'superuser', label: 'The superuser (role sa): no check and no filter applies.' }];
    }
    const roles = effectiveRoles(user);
    const meta = this.entity(entityName);
    const plan = this.plan(roles, entityName);
    const shared = this.policy.sharedLabels.get(meta.class);
    return [
      ...this.policy.rolePermissions
        .filter((permission) => permission.roles.some((role) => roles.includes(role)))
        .map((permission): AppliedRule => ({ kind: 'role permission', label: permission.label })),
      ...this.policy.grants
        .filter((grant) => grant.entity === meta.class && roles.includes(grant.role))
        .map((grant): AppliedRule => ({ kind: 'grant', label: grant.label })),
      ...plan.globals.map((global): AppliedRule => ({
        kind: global.tenant ? 'tenant filter' : 'global filter',
        label: global.label,
      })),
      ...(plan.scope ? [{ kind: 'scope', label: plan.scope.label } as AppliedRule] : []),
      ...(shared ? [{ kind: 'shared', label: shared } as AppliedRule] : []),
    ];
  }

  /**
   * The rule that withholds `verb` on the entity from `user`: the role permissions and grants of its
   * roles that set the verb false, or, when no rule of its roles mentions the entity, that absence.
   */
  verbDenial(user: AuthUser, entityName: string, verb: Verb): string {
    const roles = effectiveRoles(user);
    const meta = this.entity(entityName);
    const withheld = [
      ...this.policy.rolePermissions.filter(
        (permission) =>
          permission.verbs[verb] === false && permission.roles.some((role) => roles.includes(role)),
      ),
      ...this.policy.grants.filter(
        (grant) => grant.verbs[verb] === false && grant.entity === meta.class && roles.includes(grant.role),
      ),
    ];
    if (withheld.length > 0) return withheld.map((rule) => rule.label).join(' and ');
    if (verb !== 'read' && this.isShared(entityName))
      return `${entityName} is shared by all tenants, and shared rows are written only by sa and the roles a grant on ${entityName} names (${this.policy.sharedLabels.get(meta.class)})`;
    return `No role permission or grant gives ${roles.join(', ')} ${verb} on ${entityName}.`;
  }

  /** The rule that keeps a field from a user: its `restrictFields` declaration. */
  fieldDenial(entityName: string, field: string): string {
    return this.fieldRules.get(entityName)?.get(field)?.label ?? `${entityName}.${field}`;
  }

  /** Every restricted field, as `[entity, field]`: the API marks them for the field check. */
  restrictedFields(): [entityName: string, field: string][] {
    return [...this.fieldRules].flatMap(([entityName, fields]) =>
      [...fields.keys()].map((field): [string, string] => [entityName, field]),
    );
  }

  /** The rule a database policy of grantgate's on the entity's table comes from (see database-policies.ts). */
  databasePolicyLabel(entityName: string, policyName: string, user?: AuthUser): string | undefined {
    if (policyName === SCOPE_POLICY) return this.scopes.get(entityName)?.label;
    // The grants of the user's roles, as the gateway names the part they make (predicateParts).
    if (policyName === GRANTS_POLICY && user) {
      const grants = this.plan(effectiveRoles(user), entityName).grants;
      return grants.length > 0 ? grants.map((grant) => grant.label).join(' or ') : undefined;
    }
    return this.policy.globalFilters.find((global) => `${POLICY_PREFIX}${global.attribute}` === policyName)
      ?.label;
  }

  /** The global filter that constrains `attribute` of the entity for `user` (what a write must keep). */
  globalFilterLabel(user: AuthUser, entityName: string, attribute: string): string | undefined {
    return this.plan(effectiveRoles(user), entityName).globals.find(
      (global) => global.attribute === attribute,
    )?.label;
  }

  private classNameOf(entity: EntityClass<object>): string | undefined {
    return [...this.entities.values()].find((meta) => meta.class === entity)?.className;
  }

  /** Which rules apply depends only on the roles and the entity: compiled once per (roles, entity). */
  private plan(roles: string[], entityName: string): EntityPlan {
    // JSON, not a join: a role name may contain any character.
    const key = `${JSON.stringify([...roles].sort())}|${entityName}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = this.compile(roles, entityName);
      this.plans.set(key, plan);
    }
    return plan;
  }

  private compile(roles: string[], entityName: string): EntityPlan {
    const meta = this.entity(entityName);
    const grants = this.policy.grants
      .filter((grant) => this.classNameOf(grant.entity) === entityName && roles.includes(grant.role))
      .filter((grant) => grant.filter);
    const globals = this.globalFiltersOn(meta).filter(
      (global) => !global.rolesNotFiltered.some((role) => roles.includes(role)),
    );
    return {
      grants,
      globals,
      scope: this.scopes.get(entityName),
      withheldBy:
        this.coverage.get(entityName) === 'withheld'
          ? this.policy.globalFilters.find(
              (global) => global.tenant && !global.rolesNotFiltered.some((role) => roles.includes(role)),
            )
          : undefined,
    };
  }
}

/** Compiles and checks the declarations against the entities; throws SecurityDeclarationError. */
export function compileSecurityModel(policy: SecurityPolicy, metadata: MetadataStorage): SecurityModel {
  return new SecurityModel(policy, metadata);
}

/** The checks that make a mistake in the declarations stop start-up with one clear line. */
class DeclarationChecks {
  constructor(
    private readonly policy: SecurityPolicy,
    private readonly entities: Map<string, SecuredEntity>,
  ) {}

  private nameOf(entity: EntityClass<object>, where: string): string {
    const meta = [...this.entities.values()].find((m) => m.class === entity);
    if (!meta) {
      throw new SecurityDeclarationError(
        `${where}: ${entity?.name ?? String(entity)} is not an entity of this gateway`,
      );
    }
    return meta.className;
  }

  grants(): void {
    for (const grant of this.policy.grants) this.nameOf(grant.entity, `grant to ${grant.role}`);
  }

  /** Each restricted field of each entity with its rule; a field that is not a column stops start-up. */
  fieldRules(): Map<string, Map<string, FieldRule>> {
    const rules = new Map<string, Map<string, FieldRule>>();
    for (const rule of this.policy.fieldRules) {
      const entityName = this.nameOf(rule.entity, `restrictFields(${rule.fields.join(', ')})`);
      const meta = this.entities.get(entityName)!;
      const fields = rules.get(entityName) ?? new Map<string, FieldRule>();
      for (const field of rule.fields) {
        const where = `restrictFields(${entityName}, '${field}')`;
        const prop = meta.properties[field as never] as EntityProperty | undefined;
        if (prop?.kind !== ReferenceKind.SCALAR || !prop.fieldNames?.length) {
          const columns = meta.props.filter((p) => p.kind === ReferenceKind.SCALAR).map((p) => p.name);
          throw new SecurityDeclarationError(
            `${where}: ${field} is not a column of ${entityName} (${columns.join(', ')})`,
          );
        }
        if (meta.primaryKeys.includes(field)) {
          throw new SecurityDeclarationError(
            `${where}: ${field} is ${entityName}'s key, which every reader uses`,
          );
        }
        if (fields.has(field)) {
          throw new SecurityDeclarationError(
            `${where}: ${field} is already restricted ("${fields.get(field)!.label}")`,
          );
        }
        fields.set(field, rule);
      }
      rules.set(entityName, fields);
    }
    return rules;
  }

  /**
   * Each filter's condition as data (captured-filter.ts); a filter that cannot be captured — it reads
   * the clock or a variable, calls code, computes with the user's values — stops start-up naming it.
   */
  capturedFilters(): Map<GlobalFilter | Grant, Condition> {
    const conditions = new Map<GlobalFilter | Grant, Condition>();
    const rules: [GlobalFilter | Grant, RowFilter, string][] = [
      ...this.policy.globalFilters.map((global): [GlobalFilter, RowFilter, string] => [
        global,
        global.filter,
        `${global.tenant ? 'tenant' : 'global'} filter "${global.attribute}"`,
      ]),
      ...this.policy.grants.flatMap((grant): [Grant, RowFilter, string][] =>
        grant.filter ? [[grant, grant.filter, `grant ${grant.entity.name} to ${grant.role}`]] : [],
      ),
    ];
    for (const [rule, filter, kind] of rules) {
      try {
        conditions.set(rule, captureFilter(filter));
      } catch (error) {
        if (!(error instanceof Uncapturable)) throw error;
        throw new SecurityDeclarationError(
          `${kind} ("${rule.label}") is not a condition every layer can apply: ${error.message}; write it as an object of literals and currentUser.<attribute>`,
        );
      }
    }
    return conditions;
  }

  /**
   * A label names one condition: explain, a denial's `extensions.rule` and the compiled policy (whose
   * `rules` are keyed by label, what security:diff compares) would otherwise say one rule and mean
   * another. Rules that share a label and filter alike (one condition granted to several roles) are
   * one rule to a reader, and pass.
   */
  distinctLabels(conditions: ReadonlyMap<GlobalFilter | Grant, Condition>): void {
    const seen = new Map<string, { condition: string; rule: string }>();
    for (const [rule, condition] of conditions) {
      const described =
        'role' in rule ? `grant ${rule.entity.name} to ${rule.role}` : `filter "${rule.attribute}"`;
      const known = seen.get(rule.label);
      if (known && known.condition !== JSON.stringify(condition)) {
        throw new SecurityDeclarationError(
          `${known.rule} and ${described} are both labelled "${rule.label}" but filter differently: give one its own intent comment or name`,
        );
      }
      seen.set(rule.label, { condition: JSON.stringify(condition), rule: described });
    }
  }

  globalFilters(conditions: ReadonlyMap<GlobalFilter | Grant, Condition>): void {
    for (const global of this.policy.globalFilters) {
      // Each global filter's database policy is named after its attribute.
      if (RESERVED_POLICY_NAMES.includes(`${POLICY_PREFIX}${global.attribute}`)) {
        throw new SecurityDeclarationError(
          `global filter "${global.attribute}": its database policy would be named ${POLICY_PREFIX}${global.attribute}, which grantgate uses for another rule; filter on a property of another name`,
        );
      }
    }
    const tenantFilters = this.policy.globalFilters.filter((global) => global.tenant);
    if (tenantFilters.length > 1) {
      throw new SecurityDeclarationError(
        `tenantFilter is declared ${tenantFilters.length} times (${tenantFilters.map((g) => g.attribute).join(', ')}): declare one, and the others as globalFilter`,
      );
    }
    for (const global of this.policy.globalFilters) {
      const label = `global filter "${global.attribute}"`;
      if (![...this.entities.values()].some((meta) => global.attribute in meta.properties)) {
        throw new SecurityDeclarationError(
          `${label} names no property of any entity (${[...this.entities.keys()].join(', ')}): check its spelling`,
        );
      }
      // Inserts are stamped with currentUser.<attribute>: a filter on the column that reads another
      // attribute would stamp one value and filter by another.
      for (const [property, attribute] of comparedAttributes(conditions.get(global)!)) {
        if (property === global.attribute && attribute !== global.attribute) {
          throw new SecurityDeclarationError(
            `${label} compares ${property} with currentUser.${attribute}: it must read currentUser.${global.attribute}, the value inserts are stamped with (or be declared on "${attribute}")`,
          );
        }
      }
    }
  }

  scopes(): Map<string, ScopeRule> {
    const scopes = new Map<string, ScopeRule>();
    for (const scope of this.policy.scopes) {
      const entityName = this.nameOf(scope.entity, `scope through ${scope.relation}`);
      const where = `scope(${entityName}, '${scope.relation}')`;
      if (scopes.has(entityName)) {
        throw new SecurityDeclarationError(
          `${where}: ${entityName} already has a scope; an entity has at most one`,
        );
      }
      const meta = this.entities.get(entityName)!;
      const prop = meta.properties[scope.relation as never] as EntityProperty | undefined;
      const toOne = meta.relations
        .filter(
          (p) => p.kind === ReferenceKind.MANY_TO_ONE || (p.kind === ReferenceKind.ONE_TO_ONE && p.owner),
        )
        .map((p) => p.name);
      if (!prop || !toOne.includes(prop.name)) {
        const kind = prop
          ? `is ${prop.kind === ReferenceKind.SCALAR ? 'a column' : 'not a to-one relation'}`
          : 'is not a property';
        throw new SecurityDeclarationError(
          `${where}: ${scope.relation} ${kind} of ${entityName}; a scope goes through a to-one relation (${toOne.join(', ') || 'it has none'})`,
        );
      }
      scopes.set(entityName, {
        label: scope.label,
        relation: prop.name,
        parent: prop.targetMeta!.className,
        foreignKey: prop.fieldNames[0]!,
        parentKey: prop.referencedColumnNames[0]!,
      });
    }
    for (const start of scopes.keys()) {
      const path = [start];
      for (let next = scopes.get(start)!.parent; ; next = scopes.get(next)!.parent) {
        if (path.includes(next)) {
          throw new SecurityDeclarationError(
            `scopes form a cycle (${[...path, next].join(' → ')}): one entity of the cycle must carry the tenant column or be shared`,
          );
        }
        if (!scopes.has(next)) break;
        path.push(next);
      }
    }
    return scopes;
  }

  coverage(scopes: Map<string, ScopeRule>): Map<string, TenantCoverage> {
    const shared = new Set(this.policy.shared.map((entity) => this.nameOf(entity, 'sharedByAllTenants')));
    const tenant = this.policy.globalFilters.find((global) => global.tenant);
    if (!tenant) return new Map();
    const column = (name: string) => tenant.attribute in this.entities.get(name)!.properties;
    for (const name of shared) {
      if (column(name) || scopes.has(name)) {
        throw new SecurityDeclarationError(
          `sharedByAllTenants(${name}): ${name} ${column(name) ? `has the tenant column ${tenant.attribute}` : 'has a scope'}, so it is not shared; remove one of the two declarations`,
        );
      }
    }
    const coverage = new Map<string, TenantCoverage>();
    const covered = (name: string): TenantCoverage | undefined => {
      if (column(name)) return 'column';
      if (shared.has(name)) return 'shared';
      const scope = scopes.get(name);
      return scope && covered(scope.parent) ? 'scope' : undefined;
    };
    for (const name of [...this.entities.keys()].sort()) {
      const how = covered(name) ?? (isView(this.entities.get(name)!) ? 'withheld' : undefined);
      if (!how) {
        const scope = scopes.get(name);
        throw new SecurityDeclarationError(
          scope
            ? `${name} is scoped through ${scope.relation} to ${scope.parent}, which the tenant filter "${tenant.attribute}" does not cover: cover ${scope.parent} first`
            : `${name} is not covered by the tenant filter "${tenant.attribute}": give it a ${tenant.attribute} property, declare scope(${name}, '<to-one relation>') to a covered entity, or declare sharedByAllTenants(${name})`,
        );
      }
      coverage.set(name, how);
    }
    return coverage;
  }
}

/** The kind of column each user attribute is compared with in the filters that can be read statically. */
function attributeKinds(
  policy: SecurityPolicy,
  entities: Map<string, SecuredEntity>,
  conditions: ReadonlyMap<GlobalFilter | Grant, Condition>,
): Map<string, AttributeKind> {
  const kinds = new Map<string, AttributeKind>();
  const rules: { rule: GlobalFilter | Grant; targets: SecuredEntity[] }[] = [
    ...policy.globalFilters.map((global) => ({
      rule: global,
      targets: [...entities.values()].filter((meta) => global.attribute in meta.properties),
    })),
    ...policy.grants
      .filter((grant) => grant.filter)
      .map((grant) => ({
        rule: grant,
        targets: [...entities.values()].filter((meta) => meta.class === grant.entity),
      })),
  ];
  for (const { rule, targets } of rules) {
    for (const [property, attribute] of comparedAttributes(conditions.get(rule)!)) {
      for (const meta of targets) {
        const prop = meta.properties[property as never] as EntityProperty | undefined;
        if (!prop) continue;
        const kind = columnKind(prop);
        const known = kinds.get(attribute);
        kinds.set(attribute, known === undefined || known === kind ? kind : 'any');
      }
    }
  }
  return kinds;
}

function columnKind(prop: EntityProperty): AttributeKind {
  const column = prop.columnTypes?.[0] ?? '';
  if (prop.runtimeType === 'number') return /int|serial/i.test(column) ? 'integer' : 'number';
  if (prop.runtimeType === 'string') return 'string';
  if (prop.runtimeType === 'boolean') return 'boolean';
  return 'any';
}
