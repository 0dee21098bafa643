import { ReferenceKind } from '@mikro-orm/core';
import { type Condition } from './captured-filter.js';
import { type Verb } from './policy.js';
import { type SecurityModel, type TenantCoverage } from './security-model.js';

/**
 * What one role alone may do with one entity: its verbs, the columns it may not read nor write, the
 * rows it may touch — those of any of `grants` (none: no grant restricts them) within all of
 * `filters`, each a rule's label (`CompiledPolicy.rules`) — and the attributes an insert is stamped
 * with.
 */
export interface CompiledRole {
  verbs: Verb[];
  hiddenColumns?: string[];
  grants?: string[];
  filters?: string[];
  stamps?: string[];
}

export interface CompiledEntity {
  table: string;
  coverage?: TenantCoverage;
  /** Rows belong to the tenant of the row `through` points to: visible where that row is. */
  scope?: { label: string; through: string; parent: string };
  /** The roles that have a verb on it, each alone; `sa` has every verb on every row and is left out. */
  roles: Record<string, CompiledRole>;
}

/**
 * The declarations compiled for each entity and role, as plain data (JSON): what a reviewer reads,
 * and what two revisions of the declarations are compared by (`npm run security:diff`). A user of
 * several roles has the verbs of any of them and the rows of any of their grants, within the filters
 * none of its roles is exempt from.
 */
export interface CompiledPolicy {
  roles: string[];
  /** Each filtering rule by its label (its intent comment): its captured condition. */
  rules: Record<string, Condition>;
  entities: Record<string, CompiledEntity>;
}

const VERBS: Verb[] = ['read', 'insert', 'update', 'delete'];

export function compilePolicy(model: SecurityModel): CompiledPolicy {
  const roles = model.namedRoles();
  const rules: Record<string, Condition> = {};
  for (const rule of [...model.policy.globalFilters, ...model.policy.grants.filter((grant) => grant.filter)])
    rules[rule.label] = model.conditionOf(rule);
  const entities: Record<string, CompiledEntity> = {};
  for (const meta of model.securedEntities()) {
    const entityName = meta.className;
    const scope = model.scopeOf(entityName);
    const columns = meta.props.filter((prop) => prop.kind === ReferenceKind.SCALAR).map((prop) => prop.name);
    const compiled: CompiledEntity = {
      table: meta.schema ? `${meta.schema}.${meta.tableName}` : meta.tableName,
      ...(model.coverage.get(entityName) ? { coverage: model.coverage.get(entityName) } : {}),
      ...(scope ? { scope: { label: scope.label, through: scope.relation, parent: scope.parent } } : {}),
      roles: {},
    };
    for (const role of roles) {
      const user = { id: `role ${role}`, name: null, roles: [role], attributes: {} };
      const verbs = VERBS.filter((verb) => model.allows(user, entityName, verb));
      if (verbs.length === 0) continue;
      const hidden = columns.filter((column) => !model.mayUseField(user, entityName, column));
      const grants = model.policy.grants
        .filter((grant) => grant.role === role && grant.entity === meta.class && grant.filter)
        .map((grant) => grant.label);
      const filters = model
        .globalFiltersOn(meta)
        .filter((global) => !global.rolesNotFiltered.includes(role))
        .map((global) => global.label);
      const stamps = model.constrainedAttributes(user, entityName);
      compiled.roles[role] = {
        verbs,
        ...(hidden.length > 0 ? { hiddenColumns: hidden } : {}),
        ...(grants.length > 0 ? { grants } : {}),
        ...(filters.length > 0 ? { filters } : {}),
        ...(stamps.length > 0 ? { stamps } : {}),
      };
    }
    entities[entityName] = compiled;
  }
  return { roles, rules, entities };
}
