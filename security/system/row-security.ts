import { type EntityManager, type FilterDef, type FilterQuery, type MetadataStorage } from '@mikro-orm/core';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import policy from '../declare-security.js';
import {
  coversEntity,
  type CurrentUser,
  type GlobalFilter,
  type RowFilter,
  type SecurityPolicy,
  type Verb,
} from './policy.js';

export const SECURITY_FILTER = 'security';

export const SUPERUSER_ROLE = 'sa';

/** Holds the role `sa`, or is the user `sa`: no check and no filter applies (SPEC §5). */
export function isSuperuser(user: AuthUser): boolean {
  return user.id === SUPERUSER_ROLE || user.roles.includes(SUPERUSER_ROLE);
}

/** A user without roles is evaluated as holding the single role `public`. */
export function effectiveRoles(user: AuthUser): string[] {
  return user.roles.length > 0 ? user.roles : ['public'];
}

interface AppliedFilter {
  label: string;
  filter: RowFilter;
}

interface EntityPlan {
  /** Filtered grants of the user's roles: at least one must admit the row (none: no grant restriction). */
  grants: AppliedFilter[];
  /** Global filters on the entity that the user's roles are not exempt from: all must admit the row. */
  globals: GlobalFilter[];
  matchNothing: FilterQuery<object>;
}

/**
 * Turns the declarations into the row predicate of SPEC §5 for one user and entity:
 * `(grant₁ OR grant₂ …) AND global₁ AND global₂ …`. Which rules apply depends only on the roles and
 * the entity, so that part is compiled once per (roles, entity); only the user's values are bound per call.
 */
export class RowSecurity {
  private readonly plans = new Map<string, EntityPlan>();

  constructor(
    private readonly policy: SecurityPolicy,
    private readonly metadata: MetadataStorage,
  ) {}

  /** The condition that limits `entityName` to what `user` may see; `{}` for the superuser. */
  predicate(user: AuthUser, entityName: string): FilterQuery<object> {
    if (isSuperuser(user)) return {};
    const plan = this.plan(effectiveRoles(user), entityName);
    const globals = plan.globals.map((global) => evaluate(global.filter, user));
    // A filter that could not be evaluated for this user (a missing attribute) admits no row.
    if (globals.some((condition) => condition === null)) return plan.matchNothing;
    const grants = plan.grants.map((applied) => evaluate(applied.filter, user) ?? plan.matchNothing);
    const parts = [...(grants.length > 0 ? [{ $or: grants }] : []), ...globals];
    if (parts.length === 0) return {};
    return parts.length === 1 ? (parts[0] as FilterQuery<object>) : { $and: parts as FilterQuery<object>[] };
  }

  /** True when a role permission or a Grant of one of the user's roles allows `verb` on the entity. */
  allows(user: AuthUser, entityName: string, verb: Verb): boolean {
    if (isSuperuser(user)) return true;
    const roles = effectiveRoles(user);
    return (
      this.policy.rolePermissions.some(
        (permission) =>
          permission.verbs[verb] !== false && permission.roles.some((role) => roles.includes(role)),
      ) ||
      this.policy.grants.some(
        (grant) =>
          grant.verbs[verb] !== false &&
          roles.includes(grant.role) &&
          this.metadata.get(grant.entity).className === entityName,
      )
    );
  }

  /**
   * The global-filter attributes of the entity that constrain this user (not exempt by a role): an
   * insert stamps them from the user when omitted, and a write may not set them to another value.
   */
  constrainedAttributes(user: AuthUser, entityName: string): string[] {
    if (isSuperuser(user)) return [];
    return this.plan(effectiveRoles(user), entityName).globals.map((global) => global.attribute);
  }

  /** Names of the grants and global filters that apply, for the debug log. */
  describe(user: AuthUser, entityName: string): { grants: string[]; globalFilters: string[] } | 'superuser' {
    if (isSuperuser(user)) return 'superuser';
    const plan = this.plan(effectiveRoles(user), entityName);
    return { grants: plan.grants.map((g) => g.label), globalFilters: plan.globals.map((g) => g.attribute) };
  }

  private plan(roles: string[], entityName: string): EntityPlan {
    const key = `${[...roles].sort().join(',')}|${entityName}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = this.compile(roles, entityName);
      this.plans.set(key, plan);
    }
    return plan;
  }

  private compile(roles: string[], entityName: string): EntityPlan {
    const meta = this.metadata.getByClassName(entityName, false);
    if (!meta) throw new Error(`row security: unknown entity ${entityName}`);
    const grants = this.policy.grants
      .filter(
        (grant) =>
          grant.filter &&
          roles.includes(grant.role) &&
          this.metadata.get(grant.entity).className === entityName,
      )
      .map((grant, index) => ({ label: `${grant.role}#${index + 1}`, filter: grant.filter! }));
    const globals = this.policy.globalFilters.filter(
      (global) => coversEntity(global, meta) && !global.rolesNotFiltered.some((role) => roles.includes(role)),
    );
    const primaryKey = meta.getPrimaryProps()[0]!.name;
    return { grants, globals, matchNothing: { [primaryKey]: { $in: [] } } };
  }
}

/**
 * Calls a declared filter with the user's values. Reading an attribute the user lacks (null or
 * undefined), or a filter that throws, gives null: the caller turns that into "no rows".
 */
function evaluate(filter: RowFilter, user: AuthUser): FilterQuery<object> | null {
  let missing = false;
  const currentUser = new Proxy({} as CurrentUser, {
    get(_target, key) {
      const value = key === 'id' ? user.id : typeof key === 'string' ? user.attributes[key] : undefined;
      if (value === undefined || value === null) missing = true;
      return value;
    },
  });
  try {
    const condition = filter(currentUser);
    return missing ? null : condition;
  } catch {
    return null;
  }
}

const engines = new WeakMap<MetadataStorage, RowSecurity>();

/** The engine for an ORM's metadata, built on first use. */
export function rowSecurityFor(metadata: MetadataStorage): RowSecurity {
  let engine = engines.get(metadata);
  if (!engine) {
    engine = new RowSecurity(policy, metadata);
    engines.set(metadata, engine);
  }
  return engine;
}

/**
 * The one MikroORM filter behind every read: on by default for every entity, parameterised per
 * request with the user (`em.setFilterParams('security', { user })`). Without a user it throws,
 * so a fork that was never given one cannot read anything.
 */
export const securityFilter: FilterDef = {
  name: SECURITY_FILTER,
  default: true,
  cond: (
    args: { user?: AuthUser },
    _type: string,
    em: EntityManager,
    _options: unknown,
    entityName?: string,
  ) => {
    if (!args?.user) throw new Error('row security: no user on this EntityManager');
    const engine = rowSecurityFor(em.getMetadata());
    const logger = em.config.getLogger();
    if (logger.isEnabled('info')) {
      // At debug level: which rules applied to which user and entity, next to the SQL of the same request.
      const details = {
        user: args.user.id,
        entity: entityName,
        applied: engine.describe(args.user, entityName!),
      };
      logger.log('security', 'row security applied', { ...em.getLoggerContext(), details });
    }
    return engine.predicate(args.user, entityName!);
  },
};

/** Sets the user whose rows `em` may read; every find, count and relation load is filtered by it. */
export function restrictToUser(em: EntityManager, user: AuthUser): void {
  em.setFilterParams(SECURITY_FILTER, { user });
}

const SYSTEM: AuthUser = { id: '<system>', name: 'system', roles: ['sa'], attributes: {} };

/**
 * Test-only switch: reads of `em` skip the application-layer filter, so only the database's
 * policies stand between the request and other tenants' rows (test/security/database-layer.test.ts).
 */
export function disableApplicationRowFilterForTests(em: EntityManager): void {
  em.setFilterParams(SECURITY_FILTER, { user: SYSTEM });
}

/**
 * The escape hatch: an EntityManager that sees every row, for the seeder and maintenance CLIs only.
 * Never for a request; the name is meant to be noticed in review.
 */
export function dangerouslyBypassRowSecurity<T extends EntityManager>(em: T): T {
  const fork = em.fork() as T;
  fork.setFilterParams(SECURITY_FILTER, { user: SYSTEM });
  return fork;
}
