import { type EntityClass, type EntityMetadata, type FilterQuery } from '@mikro-orm/core';

export type Verb = 'read' | 'insert' | 'update' | 'delete';

/** Each verb defaults to allowed; set one to false to withhold it. */
export type VerbFlags = Partial<Record<Verb, boolean>>;

/**
 * The user a filter is evaluated for: `id` plus every attribute (`clientId`, `region`, …) as a property.
 * A filter that reads an attribute the user does not have matches no rows.
 */
export type CurrentUser = { readonly id: string } & Readonly<Record<string, unknown>>;

export type RowFilter = (currentUser: CurrentUser) => FilterQuery<object>;

export interface RolePermission {
  roles: string[];
  verbs: VerbFlags;
}

export interface Grant {
  entity: EntityClass<object>;
  role: string;
  filter?: RowFilter;
  verbs: VerbFlags;
}

export interface GlobalFilter {
  /** The entity property it constrains; it applies to every entity that has a property of this name. */
  attribute: string;
  filter: RowFilter;
  rolesNotFiltered: string[];
}

/**
 * A global filter covers every entity with a property of its attribute's name, including entities
 * added later; the gateway's filter and the database's policies both ask this one question.
 */
export function coversEntity(global: GlobalFilter, meta: EntityMetadata): boolean {
  return global.attribute in meta.properties;
}

export interface SecurityPolicy {
  rolePermissions: RolePermission[];
  grants: Grant[];
  globalFilters: GlobalFilter[];
}

/** The vocabulary of security/declare-security.ts: one call per rule. */
export interface SecurityDeclarations {
  /** The verbs `roles` have on every entity (each defaults to allowed unless set false). */
  rolePermission(roles: string | string[], verbs?: VerbFlags): void;
  /** Gives `role` the verbs on `entity` (all unless set false), restricted to the rows `filter` admits. */
  grant<T extends object>(
    entity: EntityClass<T>,
    role: string,
    options?: { filter?: (currentUser: CurrentUser) => FilterQuery<T>; verbs?: VerbFlags },
  ): void;
  /** Restricts every entity that has `attribute` to the rows `filter` admits, for everyone but `rolesNotFiltered`. */
  globalFilter(attribute: string, filter: RowFilter, options: { rolesNotFiltered: string[] }): void;
}

/** Collects the declarations into a policy the engine compiles. */
export function declareSecurity(declare: (rules: SecurityDeclarations) => void): SecurityPolicy {
  const policy: SecurityPolicy = { rolePermissions: [], grants: [], globalFilters: [] };
  declare({
    rolePermission(roles, verbs = {}) {
      policy.rolePermissions.push({ roles: [roles].flat(), verbs });
    },
    grant(entity, role, options = {}) {
      policy.grants.push({
        entity: entity as EntityClass<object>,
        role,
        filter: options.filter as RowFilter | undefined,
        verbs: options.verbs ?? {},
      });
    },
    globalFilter(attribute, filter, options) {
      policy.globalFilters.push({ attribute, filter, rolesNotFiltered: options.rolesNotFiltered });
    },
  });
  return policy;
}
