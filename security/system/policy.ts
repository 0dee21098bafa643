import { type EntityClass, type FilterQuery } from '@mikro-orm/core';
import { commentAbove, declarationSite } from './rule-labels.js';

export type Verb = 'read' | 'insert' | 'update' | 'delete';

/** Each verb defaults to allowed; set one to false to withhold it. */
export type VerbFlags = Partial<Record<Verb, boolean>>;

/**
 * The user a filter is evaluated for: `id` plus every attribute (`clientId`, `region`, …) as a property.
 * A filter that reads an attribute the user does not have, or whose value is not a single string,
 * number or boolean of the column's kind, matches no rows.
 */
export type CurrentUser = { readonly id: string } & Readonly<Record<string, unknown>>;

/**
 * A function of the user alone (no clock, no state of its own): the gateway keeps each read's compiled
 * statement per document, variables and identity (src/api/compiled-statements.ts), so a filter is
 * evaluated when a statement is first built for a user, not on every request.
 */
export type RowFilter = (currentUser: CurrentUser) => FilterQuery<object>;

/**
 * What every rule is called in `security:explain`, the console and a denial's `extensions.rule`: its
 * `name` option, else the intent comment above its declaration, else a description of the call.
 */
export interface Labelled {
  label: string;
}

export interface RolePermission extends Labelled {
  roles: string[];
  verbs: VerbFlags;
}

export interface Grant extends Labelled {
  entity: EntityClass<object>;
  role: string;
  filter?: RowFilter;
  verbs: VerbFlags;
}

export interface GlobalFilter extends Labelled {
  /** The entity property it constrains; it applies to every entity that has a property of this name. */
  attribute: string;
  filter: RowFilter;
  rolesNotFiltered: string[];
  /** The filter that separates tenants: every entity must be covered by it (SPEC §5, coverage). */
  tenant: boolean;
}

/** The entity belongs to the tenant of the row its to-one `relation` points to. */
export interface Scope extends Labelled {
  entity: EntityClass<object>;
  relation: string;
}

/** Fields of `entity` that only `roles` (and the superuser) may read, filter on, sort on and write. */
export interface FieldRule extends Labelled {
  entity: EntityClass<object>;
  fields: string[];
  roles: string[];
}

/**
 * `roles` may read `entity` but not aggregate it (count, sum, group): the API's aggregate fields refuse
 * a user none of whose reading roles may (SPEC §11).
 */
export interface AggregateRule extends Labelled {
  entity: EntityClass<object>;
  roles: string[];
}

export interface SecurityPolicy {
  rolePermissions: RolePermission[];
  fieldRules: FieldRule[];
  aggregateRules: AggregateRule[];
  grants: Grant[];
  globalFilters: GlobalFilter[];
  scopes: Scope[];
  /** Entities every tenant reads: the tenant filter need not cover them. */
  shared: EntityClass<object>[];
  /** The label of the `sharedByAllTenants` declaration that named each shared entity. */
  sharedLabels: Map<EntityClass<object>, string>;
}

/** An explicit label, for a rule without an intent comment above it (or one that should read otherwise). */
type Naming = { name?: string };

type FilterOptions = { rolesNotFiltered: string[] } & Naming;

/** The vocabulary of a domain's declare-security.ts: one call per rule. */
export interface SecurityDeclarations {
  /** The verbs `roles` have on every entity (each defaults to allowed unless set false). */
  rolePermission(roles: string | string[], verbs?: VerbFlags, options?: Naming): void;
  /** Gives `role` the verbs on `entity` (all unless set false), restricted to the rows `filter` admits. */
  grant<T extends object>(
    entity: EntityClass<T>,
    role: string,
    options?: { filter?: (currentUser: CurrentUser) => FilterQuery<T>; verbs?: VerbFlags } & Naming,
  ): void;
  /** Restricts every entity that has `attribute` to the rows `filter` admits, for everyone but `rolesNotFiltered`. */
  globalFilter(attribute: string, filter: RowFilter, options: FilterOptions): void;
  /**
   * The global filter that separates tenants. Every entity must be covered by it: by having
   * `attribute`, by a `scope` through a covered parent, or by `sharedByAllTenants`.
   */
  tenantFilter(attribute: string, filter: RowFilter, options: FilterOptions): void;
  /**
   * Rows of `entity` belong to the tenant of the row `relation` (a to-one relation) points to: a row is
   * visible only when that parent row is visible to the same user; a row without a parent only to `sa`.
   */
  scope<T extends object>(entity: EntityClass<T>, relation: keyof T & string, options?: Naming): void;
  /** These entities are read by every tenant: the tenant filter does not apply to them. */
  sharedByAllTenants(...entities: EntityClass<object>[]): void;
  /**
   * Only `roles` (and the superuser) may read `fields` of `entity`, filter or sort on them, and write
   * them; every other reader of the entity gets FORBIDDEN for them, and the database refuses their writes.
   */
  restrictFields<T extends object>(
    entity: EntityClass<T>,
    fields: (keyof T & string)[],
    roles: string | string[],
    options?: Naming,
  ): void;
  /**
   * `roles` may not aggregate `entity` (its aggregate and group-by fields are FORBIDDEN to them) though
   * they may read it; a user with another role that reads the entity and is not named here still may.
   */
  noAggregates<T extends object>(entity: EntityClass<T>, roles: string | string[], options?: Naming): void;
}

/** The label of the declaration being made: `name`, else its intent comment, else `fallback`. */
function labelOf(name: string | undefined, fallback: () => string): string {
  return name ?? commentAbove(declarationSite()) ?? fallback();
}

/** Collects the declarations into a policy; `compileSecurityModel` checks and compiles it. */
export function declareSecurity(declare: (rules: SecurityDeclarations) => void): SecurityPolicy {
  const policy: SecurityPolicy = {
    rolePermissions: [],
    fieldRules: [],
    aggregateRules: [],
    grants: [],
    globalFilters: [],
    scopes: [],
    shared: [],
    sharedLabels: new Map(),
  };
  const globalFilter =
    (tenant: boolean) => (attribute: string, filter: RowFilter, options: FilterOptions) => {
      const label = labelOf(options.name, () => `${tenant ? 'tenant' : 'global'} filter "${attribute}"`);
      policy.globalFilters.push({
        attribute,
        filter,
        rolesNotFiltered: options.rolesNotFiltered,
        tenant,
        label,
      });
    };
  declare({
    rolePermission(roles, verbs = {}, options = {}) {
      const all = [roles].flat();
      const label = labelOf(options.name, () => `role permission of ${all.join(', ')}`);
      policy.rolePermissions.push({ roles: all, verbs, label });
    },
    grant(entity, role, options = {}) {
      // Numbered among the role's grants on the entity, in declaration order: stable for logs.
      const number =
        policy.grants.filter((grant) => grant.entity === entity && grant.role === role).length + 1;
      policy.grants.push({
        entity: entity as EntityClass<object>,
        role,
        filter: options.filter as RowFilter | undefined,
        verbs: options.verbs ?? {},
        label: labelOf(options.name, () => `grant ${entity.name} to ${role} #${number}`),
      });
    },
    globalFilter: globalFilter(false),
    tenantFilter: globalFilter(true),
    scope(entity, relation, options = {}) {
      const label = labelOf(options.name, () => `scope of ${entity.name} through ${relation}`);
      policy.scopes.push({ entity: entity as EntityClass<object>, relation, label });
    },
    restrictFields(entity, fields, roles, options = {}) {
      const all = [roles].flat();
      const label = labelOf(
        options.name,
        () =>
          `${fields.map((field) => `${entity.name}.${field}`).join(', ')} readable by ${all.join(', ')} only`,
      );
      policy.fieldRules.push({ entity: entity as EntityClass<object>, fields, roles: all, label });
    },
    noAggregates(entity, roles, options = {}) {
      const all = [roles].flat();
      const label = labelOf(options.name, () => `no aggregates of ${entity.name} by ${all.join(', ')}`);
      policy.aggregateRules.push({ entity: entity as EntityClass<object>, roles: all, label });
    },
    sharedByAllTenants(...entities) {
      const label = labelOf(
        undefined,
        () => `${entities.map((e) => e.name).join(', ')} shared by all tenants`,
      );
      policy.shared.push(...entities);
      for (const entity of entities) policy.sharedLabels.set(entity, label);
    },
  });
  return policy;
}
