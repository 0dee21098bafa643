import {
  ALIAS_REPLACEMENT,
  type EntityManager,
  type FilterDef,
  type FilterQuery,
  raw,
} from '@mikro-orm/core';
import { compileForMikroOrm, parenthesised, type SqlFragment } from './sql-fragment.js';

export const SECURITY_FILTER = 'security';

/** What an EntityManager fork may read: the condition that limits each entity to its visible rows. */
export interface RowAccess {
  /**
   * The condition, on the row aliased `row`, that limits `entityName` to its visible rows; undefined:
   * every row. `parentsVisibleThrough`: a relation to rows the enclosing query read through their own
   * condition (the compiled read's children of a parent row), whose scope need not be checked again.
   */
  rowSql(entityName: string, row: string, parentsVisibleThrough?: string): SqlFragment | undefined;
  /** Who and which rules, for the debug log. */
  describe(entityName: string): Record<string, unknown>;
  /** The labels of the rules that limit the entity's rows (a trace's statements carry them). */
  ruleLabels(entityName: string): string[];
}

const UNRESTRICTED: RowAccess = {
  rowSql: () => undefined,
  describe: () => ({ applied: 'unrestricted' }),
  ruleLabels: () => [],
};

/**
 * SQL on a row as a MikroORM condition; `{}` (every row) when there is none. MikroORM's way of saying
 * "this query's row": a raw fragment written on its alias placeholder, which the query builder that
 * renders the condition replaces with the row's alias (as a `raw((alias) => …)` callback does).
 */
export function sqlCondition(render: (row: string) => SqlFragment | undefined): FilterQuery<object> {
  const fragment = render(ALIAS_REPLACEMENT);
  if (!fragment) return {};
  const { sql, params } = compileForMikroOrm(parenthesised(fragment));
  return { [raw(sql, [...params])]: [] };
}

/**
 * `access`'s condition on the row `row` of `entityName`; without an access it throws, so a fork that
 * was never given one cannot read anything. At debug level, which rules applied to which user and
 * entity are logged next to the SQL of the same request.
 */
function accessedRows(
  em: EntityManager,
  access: RowAccess | undefined,
  entityName: string,
  row: string,
  parentsVisibleThrough?: string,
): SqlFragment | undefined {
  if (!access) throw new Error('row security: no user on this EntityManager');
  const logger = em.config.getLogger();
  if (logger.isEnabled('info')) {
    const details = { entity: entityName, ...access.describe(entityName) };
    logger.log('security', 'row security applied', { ...em.getLoggerContext(), details });
  }
  return access.rowSql(entityName, row, parentsVisibleThrough);
}

/**
 * The condition, on the row `row`, that limits `entityName` to what `em`'s request may see (undefined:
 * every row), for a statement built without MikroORM's query builder (src/api/compiled-read.ts): the
 * same condition the security filter gives every find, count and load of `em`.
 */
export function visibleRowsSql(
  em: EntityManager,
  entityName: string,
  row: string,
  parentsVisibleThrough?: string,
): SqlFragment | undefined {
  return accessedRows(em, accessOf(em), entityName, row, parentsVisibleThrough);
}

/** The access `restrictTo` gave `em`, if any. */
const accessOf = (em: EntityManager) =>
  (em.getFilterParams(SECURITY_FILTER) as { access?: RowAccess } | undefined)?.access;

/**
 * The one MikroORM filter behind every read: on by default for every entity, parameterised per
 * request with the request's access (`restrictTo`). Without one it throws, so a fork that was never
 * given one cannot read anything.
 */
export const securityFilter: FilterDef = {
  name: SECURITY_FILTER,
  default: true,
  cond: (
    args: { access?: RowAccess } | undefined,
    _type: string,
    em: EntityManager,
    _options: unknown,
    entityName?: string,
  ) => sqlCondition((row) => accessedRows(em, args?.access, entityName!, row)),
};

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

/** The labels of the rules that limit what `em`'s request reads of `entityNames`, each once. */
export function appliedRuleLabels(em: EntityManager, entityNames: Iterable<string>): string[] {
  const access = accessOf(em);
  if (!access) return [];
  return [...new Set([...entityNames].flatMap((entityName) => access.ruleLabels(entityName)))];
}
