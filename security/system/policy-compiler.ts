import { type EntityClass, type MetadataStorage, ReferenceKind } from '@mikro-orm/core';
import {
  type CompiledFilter,
  type CompiledPolicy,
  type CompiledRole,
  entityDecisions,
  VERBS,
} from './compiled-policy.js';
import { attributeKinds, DeclarationChecks } from './declaration-checks.js';
import { PUBLIC_ROLE, SUPERUSER_ROLE } from './identity.js';
import { type SecurityPolicy, type VerbFlags } from './policy.js';
import { securedEntitiesOf } from './secured-entity.js';

const verbsOf = (flags: VerbFlags) => VERBS.filter((verb) => flags[verb] !== false);

/**
 * `compile(declarations, metadata) → CompiledPolicy`: checks the declarations against the entities
 * (a mistake stops start-up with one line: declaration-checks.ts) and turns them into plain data, each
 * entity class into its name and each filter into its captured condition. Nothing after this reads
 * the declarations.
 */
export function compilePolicy(declarations: SecurityPolicy, metadata: MetadataStorage): CompiledPolicy {
  const entities = securedEntitiesOf(metadata);
  const check = new DeclarationChecks(declarations, entities);
  const scopes = check.scopes();
  const conditions = check.capturedFilters();
  check.distinctLabels(conditions);
  check.globalFilters(conditions);
  check.grants();
  const coverage = check.coverage(scopes);
  const fieldRules = check.fieldRules();
  const roles = namedRoles(declarations);
  const aggregateRules = check.aggregateRules(roles);
  const nameOf = (entity: EntityClass<object>) => check.nameOf(entity, 'declaration');

  const filters: Record<string, CompiledFilter> = {};
  for (const global of declarations.globalFilters) {
    filters[global.label] = {
      attribute: global.attribute,
      ...(global.tenant ? { tenant: true as const } : {}),
      exempt: global.rolesNotFiltered,
    };
  }
  const rules: CompiledPolicy['rules'] = {};
  for (const [rule, condition] of conditions) rules[rule.label] = condition;
  const policy: CompiledPolicy = {
    roles,
    permissions: declarations.rolePermissions.map((permission) => ({
      label: permission.label,
      roles: permission.roles,
      verbs: verbsOf(permission.verbs),
    })),
    filters,
    rules,
    attributes: Object.fromEntries(attributeKinds(declarations, entities, conditions)),
    entities: {},
  };
  for (const meta of [...entities.values()].sort((a, b) => a.className.localeCompare(b.className))) {
    const entityName = meta.className;
    const grants = declarations.grants
      .filter((grant) => nameOf(grant.entity) === entityName)
      .map((grant) => ({
        label: grant.label,
        role: grant.role,
        verbs: verbsOf(grant.verbs),
        ...(grant.filter ? { filtered: true as const } : {}),
      }));
    const onRows = declarations.globalFilters.filter((global) => global.attribute in meta.properties);
    const fields = fieldRules.get(entityName);
    const shared = declarations.sharedLabels.get(meta.class);
    const scope = scopes.get(entityName);
    // The gateway's alone: PostgreSQL's policies see the rows a statement reads, not whether it lists
    // or sums them, so the database's copy (database-policies.ts) has nothing to say here.
    const noAggregates = aggregateRules.get(entityName);
    policy.entities[entityName] = {
      table: meta.schema ? `${meta.schema}.${meta.tableName}` : meta.tableName,
      ...(coverage.get(entityName) ? { coverage: coverage.get(entityName) } : {}),
      ...(shared ? { shared } : {}),
      ...(scope ? { scope } : {}),
      ...(grants.length > 0 ? { grants } : {}),
      ...(onRows.length > 0 ? { filters: onRows.map((global) => global.label) } : {}),
      ...(fields
        ? {
            fields: Object.fromEntries(
              [...fields].map(([field, rule]) => [field, { label: rule.label, roles: rule.roles }]),
            ),
          }
        : {}),
      ...(noAggregates ? { noAggregates: { label: noAggregates.label, roles: noAggregates.roles } } : {}),
      roles: {},
    };
    const columns = meta.props.filter((prop) => prop.kind === ReferenceKind.SCALAR).map((prop) => prop.name);
    for (const role of policy.roles) {
      const view = roleView(policy, entityName, role, columns);
      if (view) policy.entities[entityName].roles[role] = view;
    }
  }
  return policy;
}

/**
 * Every role the declarations name, `public` (a user without roles) among them; `sa` apart. Not those
 * only `noAggregates` names: it only takes from roles that read (declaration-checks.ts).
 */
function namedRoles(declarations: SecurityPolicy): string[] {
  const named = [
    PUBLIC_ROLE,
    ...declarations.rolePermissions.flatMap((permission) => permission.roles),
    ...declarations.grants.map((grant) => grant.role),
    ...declarations.globalFilters.flatMap((global) => global.rolesNotFiltered),
    ...declarations.fieldRules.flatMap((rule) => rule.roles),
  ];
  return [...new Set(named)].filter((role) => role !== SUPERUSER_ROLE).sort();
}

/** What `role` alone may do with the entity, as `entityDecisions` decides it; none: no verb there. */
function roleView(
  policy: CompiledPolicy,
  entityName: string,
  role: string,
  columns: string[],
): CompiledRole | undefined {
  const decide = entityDecisions(policy, entityName, [role]);
  const verbs = VERBS.filter(decide.allows);
  if (verbs.length === 0) return undefined;
  const hidden = columns.filter((column) => !decide.mayUseField(column));
  const stamps = decide.filters.map((label) => policy.filters[label]!.attribute);
  return {
    verbs,
    ...(hidden.length > 0 ? { hiddenColumns: hidden } : {}),
    ...(decide.rowGrants.length > 0 ? { grants: decide.rowGrants } : {}),
    ...(decide.filters.length > 0 ? { filters: decide.filters } : {}),
    ...(stamps.length > 0 ? { stamps } : {}),
    ...(decide.aggregatesWithheldBy ? { noAggregates: decide.aggregatesWithheldBy } : {}),
  };
}
