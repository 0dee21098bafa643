import { type EntityManager, type FilterDef, type FilterQuery } from '@mikro-orm/core';

export const SECURITY_FILTER = 'security';

/** What an EntityManager fork may read: the condition that limits each entity to its visible rows. */
export interface RowAccess {
  /** `{}` means every row; `parentsVisibleThrough`: see `childrenOfVisibleParents`. */
  predicate(entityName: string, em: EntityManager, parentsVisibleThrough?: string): FilterQuery<object>;
  /** Who and which rules, for the debug log. */
  describe(entityName: string): Record<string, unknown>;
}

const UNRESTRICTED: RowAccess = { predicate: () => ({}), describe: () => ({ applied: 'unrestricted' }) };

/**
 * The one MikroORM filter behind every read: on by default for every entity, parameterised per
 * request with the request's access (`restrictTo`). Without one it throws, so a fork that was never
 * given one cannot read anything.
 */
export const securityFilter: FilterDef = {
  name: SECURITY_FILTER,
  default: true,
  cond: (
    args: { access?: RowAccess; parentsVisibleThrough?: string },
    _type: string,
    em: EntityManager,
    _options: unknown,
    entityName?: string,
  ) => {
    if (!args?.access) throw new Error('row security: no user on this EntityManager');
    const logger = em.config.getLogger();
    if (logger.isEnabled('info')) {
      // At debug level: which rules applied to which user and entity, next to the SQL of the same request.
      const details = { entity: entityName, ...args.access.describe(entityName!) };
      logger.log('security', 'row security applied', { ...em.getLoggerContext(), details });
    }
    return args.access.predicate(entityName!, em, args.parentsVisibleThrough);
  },
};

/**
 * Find options for the rows of a to-many relation loaded by the ids of parent rows that this request
 * read through the filter: the security model may then skip the children's scope check through
 * `relation` (their parents are visible by construction); every other rule still applies.
 */
export function childrenOfVisibleParents(em: EntityManager, relation: string) {
  return { [SECURITY_FILTER]: { ...em.getFilterParams(SECURITY_FILTER), parentsVisibleThrough: relation } };
}

/** Every find, count and relation load of `em` is limited to what `access` may see. */
export function restrictTo(em: EntityManager, access: RowAccess): void {
  em.setFilterParams(SECURITY_FILTER, { access });
}

/**
 * Leaves `em`'s reads unfiltered by the gateway: only for a test that shows the database's policies
 * alone keep tenants apart, passed in as an option of the composition root.
 */
export function leaveRowsToTheDatabase(em: EntityManager): void {
  restrictTo(em, UNRESTRICTED);
}

/**
 * The escape hatch: an EntityManager that sees every row, for the seeder and maintenance CLIs only.
 * Never for a request; the name is meant to be noticed in review.
 */
export function dangerouslyBypassRowSecurity<T extends EntityManager>(em: T): T {
  const fork = em.fork() as T;
  restrictTo(fork, UNRESTRICTED);
  return fork;
}
