import { type Condition } from './captured-filter.js';
import { type AttributeKind } from './identity.js';
import { type Verb } from './policy.js';

/** How the tenant filter covers an entity (SPEC §5, coverage). */
/**
 * `withheld`: a view no declaration covers. A view shows its tables' rows under rules of its own, so
 * one left undecided is read by the roles the tenant filter exempts only (fail closed, and no refusal
 * to start: an imported database's views are many, and each is the team's to decide on).
 */
export type TenantCoverage = 'column' | 'scope' | 'shared' | 'withheld';

/** Rows belong to the tenant of the row `through` (a to-one relation) points to: visible where it is. */
export interface CompiledScope {
  label: string;
  through: string;
  parent: string;
  /** The child's foreign-key column and the parent's key column it references. */
  foreignKey: string;
  parentKey: string;
}

/** A role permission: the verbs `roles` have on every entity (writes of a shared one excepted). */
export interface CompiledPermission {
  label: string;
  roles: string[];
  verbs: Verb[];
}

/** A grant of verbs on one entity to one role; `filtered`: only on the rows its rule admits. */
export interface CompiledGrant {
  label: string;
  role: string;
  verbs: Verb[];
  filtered?: true;
}

/** A global filter: applies to every entity with a property `attribute`, to all but `exempt` roles. */
export interface CompiledFilter {
  attribute: string;
  tenant?: true;
  exempt: string[];
}

/** A field that only `roles` (and the superuser) may read, filter and sort on, and write. */
export interface CompiledField {
  label: string;
  roles: string[];
}

/**
 * The roles that may read an entity but not aggregate it. Enforced by the gateway alone: a database
 * policy sees the rows a statement reads, not whether it lists or sums them.
 */
export interface CompiledAggregateRule {
  label: string;
  roles: string[];
}

/**
 * What one role alone may do with one entity, derived from the rest for a reviewer (the golden file,
 * `security:diff`): its verbs, the columns it may not read nor write, the rows it may touch — those
 * of any of `grants` (none: no grant restricts them) within all of `filters`, each a rule's label —
 * the attributes an insert is stamped with, and the rule that keeps it from aggregating what it reads.
 */
export interface CompiledRole {
  verbs: Verb[];
  hiddenColumns?: string[];
  grants?: string[];
  filters?: string[];
  stamps?: string[];
  /** The `noAggregates` rule, when this role reads the entity but may not aggregate it. */
  noAggregates?: string;
}

export interface CompiledEntity {
  table: string;
  coverage?: TenantCoverage;
  /** The label of the `sharedByAllTenants` declaration: every tenant reads it, none writes it. */
  shared?: string;
  scope?: CompiledScope;
  /** The grants naming the entity, in declaration order. */
  grants?: CompiledGrant[];
  /** The global filters on its rows (it has their attribute), by label, in declaration order. */
  filters?: string[];
  fields?: Record<string, CompiledField>;
  /** The `noAggregates` declaration naming the entity (at most one per entity). */
  noAggregates?: CompiledAggregateRule;
  /** Each named role that has a verb on it, alone; `sa` has every verb on every row and is left out. */
  roles: Record<string, CompiledRole>;
}

/**
 * The declarations compiled for each entity, as plain data (JSON): what every security decision of
 * the gateway, the database's policies, explain, the console and the denials is read from (see
 * `entityDecisions`), what a reviewer reads, and what two revisions of the declarations are compared
 * by (`npm run security:diff`).
 */
export interface CompiledPolicy {
  /** Every role the declarations name, `public` (a user without roles) among them; `sa` apart. */
  roles: string[];
  permissions: CompiledPermission[];
  /** Each global filter by its label, in declaration order. */
  filters: Record<string, CompiledFilter>;
  /** Each filtering rule (global filter, filtered grant) by its label: its captured condition. */
  rules: Record<string, Condition>;
  /** The kind of column each user attribute is compared with, as far as the filters tell. */
  attributes: Record<string, AttributeKind>;
  entities: Record<string, CompiledEntity>;
}

export const VERBS: Verb[] = ['read', 'insert', 'update', 'delete'];

/**
 * `record[key]` where the record holds it itself: a column or attribute named `constructor` or
 * `toString` (a real schema may have one) must not find what every object inherits.
 */
export const entryOf = <T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined =>
  record && Object.hasOwn(record, key) ? record[key] : undefined;

const holds = (roles: readonly string[], any: readonly string[]) => any.some((role) => roles.includes(role));

/**
 * The decisions for a holder of `roles` (not the superuser) on one entity, as set operations over the
 * compiled data: a user of several roles has the verbs of any of them and the rows of any of their
 * filtered grants, within the filters none of its roles is exempt from, and may aggregate the entity
 * when any of its roles that reads it may. The one place these are decided: the gateway
 * (security-model.ts), the per-role view of the compiled policy and the database policies' roles all
 * ask it.
 */
export function entityDecisions(policy: CompiledPolicy, entityName: string, roles: readonly string[]) {
  const entity = entryOf(policy.entities, entityName);
  if (!entity) throw new Error(`row security: unknown entity ${entityName}`);
  const permissions = policy.permissions.filter((permission) => holds(roles, permission.roles));
  const grants = (entity.grants ?? []).filter((grant) => roles.includes(grant.role));
  const notExempt = (label: string) => !holds(roles, policy.filters[label]!.exempt);
  const tenantFilter = Object.keys(policy.filters).find((label) => policy.filters[label]!.tenant);
  /**
   * Whether `held` (some of these roles) have a verb. A shared entity's rows are every tenant's to
   * read and no tenant's to change: a role permission gives it no write, only a grant naming it does.
   */
  const allowedTo = (held: readonly string[]) => (verb: Verb) =>
    (!(verb !== 'read' && entity.shared) &&
      permissions.some((permission) => holds(held, permission.roles) && permission.verbs.includes(verb))) ||
    grants.some((grant) => held.includes(grant.role) && grant.verbs.includes(verb));
  const readers = roles.filter((role) => allowedTo([role])('read'));
  const noAggregates = entity.noAggregates;
  const aggregating = readers.filter((role) => !noAggregates?.roles.includes(role));
  return {
    entity,
    allows: allowedTo(roles),
    /** The role permissions and grants of these roles that apply here: what gives or withholds verbs. */
    permissions,
    grants,
    /** Labels of the filtered grants: at least one must admit a row (none: no grant restriction). */
    rowGrants: [...new Set(grants.filter((grant) => grant.filtered).map((grant) => grant.label))],
    /** Labels of the global filters on the entity these roles are not exempt from: all must admit a row. */
    filters: (entity.filters ?? []).filter(notExempt),
    /** The tenant filter, when it withholds an uncovered view from these roles entirely. */
    withheldBy:
      entity.coverage === 'withheld' && tenantFilter && notExempt(tenantFilter) ? tenantFilter : undefined,
    mayUseField: (field: string) => {
      const restricted = entryOf(entity.fields, field);
      return !restricted || holds(roles, restricted.roles);
    },
    /** One of the roles that read the entity is not denied aggregates on it (the union, as for verbs). */
    mayAggregate: aggregating.length > 0,
    /** The `noAggregates` rule, when these roles read the entity but none of them may aggregate it. */
    aggregatesWithheldBy: readers.length > 0 && aggregating.length === 0 ? noAggregates?.label : undefined,
  };
}
