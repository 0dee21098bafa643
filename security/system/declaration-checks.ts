import { type EntityClass, type EntityProperty, ReferenceKind } from '@mikro-orm/core';
import { captureFilter, comparedAttributes, type Condition } from './captured-filter.js';
import { type CompiledScope, type TenantCoverage } from './compiled-policy.js';
import { POLICY_PREFIX, RESERVED_POLICY_NAMES } from './database-policies.js';
import { type AttributeKind, SUPERUSER_ROLE } from './identity.js';
import {
  type AggregateRule,
  type FieldRule,
  type GlobalFilter,
  type Grant,
  type RowFilter,
  type SecurityPolicy,
} from './policy.js';
import { isView, type SecuredEntity } from './secured-entity.js';
import { Uncapturable } from './symbolic-filter.js';

/** A mistake in a domain's declare-security.ts: start-up and the security CLIs stop with this one line. */
export class SecurityDeclarationError extends Error {}

/** The checks that make a mistake in the declarations stop start-up with one clear line. */
export class DeclarationChecks {
  constructor(
    private readonly policy: SecurityPolicy,
    private readonly entities: Map<string, SecuredEntity>,
  ) {}

  nameOf(entity: EntityClass<object>, where: string): string {
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
   * Each entity's `noAggregates` rule. `roles` are the roles the other declarations name: a role named
   * only here has no verb anywhere, so withholding aggregates from it is a misspelling, as is naming
   * the superuser, whom no check refuses.
   */
  aggregateRules(roles: readonly string[]): Map<string, AggregateRule> {
    const rules = new Map<string, AggregateRule>();
    for (const rule of this.policy.aggregateRules) {
      const entityName = this.nameOf(rule.entity, `noAggregates(${rule.roles.join(', ')})`);
      const quoted = rule.roles.map((role) => `'${role}'`);
      const where = `noAggregates(${entityName}, ${quoted.length === 1 ? quoted[0] : `[${quoted.join(', ')}]`})`;
      const known = rules.get(entityName);
      if (known) {
        throw new SecurityDeclarationError(
          `${where}: ${entityName} already withholds aggregates ("${known.label}"); name every role in that one declaration`,
        );
      }
      if (rule.roles.length === 0) {
        throw new SecurityDeclarationError(`${where}: names no role; name the roles that may not aggregate`);
      }
      for (const role of rule.roles) {
        if (role === SUPERUSER_ROLE) {
          throw new SecurityDeclarationError(
            `${where}: ${SUPERUSER_ROLE} is the superuser, whom no rule refuses; remove it`,
          );
        }
        if (!roles.includes(role)) {
          throw new SecurityDeclarationError(
            `${where}: no other declaration names the role ${role}, so it reads nothing (roles: ${roles.join(', ')}); check its spelling`,
          );
        }
      }
      rules.set(entityName, rule);
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
    // The compiled policy keys global filters by label (explain and denials name them by it).
    const labels = this.policy.globalFilters.map((global) => global.label);
    const repeated = labels.find((label, i) => labels.indexOf(label) !== i);
    if (repeated !== undefined) {
      throw new SecurityDeclarationError(
        `two global filters are labelled "${repeated}": give each its own intent comment or name`,
      );
    }
    // Each global filter's database policy is named after its attribute (grantgate_<attribute>).
    const attributes = this.policy.globalFilters.map((global) => global.attribute);
    const twice = attributes.find((attribute, i) => attributes.indexOf(attribute) !== i);
    if (twice !== undefined) {
      throw new SecurityDeclarationError(
        `two global filters constrain "${twice}": declare one, whose condition says all of it`,
      );
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

  scopes(): Map<string, CompiledScope> {
    const scopes = new Map<string, CompiledScope>();
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
        through: prop.name,
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

  coverage(scopes: Map<string, CompiledScope>): Map<string, TenantCoverage> {
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
            ? `${name} is scoped through ${scope.through} to ${scope.parent}, which the tenant filter "${tenant.attribute}" does not cover: cover ${scope.parent} first`
            : `${name} is not covered by the tenant filter "${tenant.attribute}": give it a ${tenant.attribute} property, declare scope(${name}, '<to-one relation>') to a covered entity, or declare sharedByAllTenants(${name})`,
        );
      }
      coverage.set(name, how);
    }
    return coverage;
  }
}

/** The kind of column each user attribute is compared with in the filters that can be read statically. */
export function attributeKinds(
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
