import { type RowSql } from '../../security/system/sql-fragment.js';
import { type RequestContext } from '../context.js';
import { badUserInput } from '../errors.js';
import { cursorOf, orderOf, type Position, positionOf } from './cursors.js';
import { type EntityModel } from './entity-model.js';
import {
  DEFAULT_LIMIT,
  MAX_LIMIT,
  type OrderByInput,
  type OrderTerm,
  translateOrderBy,
  translateWhere,
  type WhereInput,
} from './query-arguments.js';
import { relationVisibility } from './request-checks.js';

/** The arguments of a connection field (Relay's, and a list's where and orderBy). */
export interface ConnectionArguments {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  where?: WhereInput | null;
  orderBy?: OrderByInput[] | null;
}

/** How many rows a page holds, and whether it is taken from the end (`last`). */
interface PageSize {
  count: number;
  backward: boolean;
}

/** A connection's page, translated and checked: its rows lie after `after` and before `before`. */
export interface ConnectionPage extends PageSize {
  where?: RowSql;
  order: OrderTerm[];
  after?: Position;
  before?: Position;
}

/** `first` or `last` (default: the first DEFAULT_LIMIT), within 0…MAX_LIMIT. */
export function pageSize(args: Pick<ConnectionArguments, 'first' | 'last'>): PageSize {
  const { first, last } = args;
  if (first != null && last != null) throw badUserInput('give first or last, not both');
  const count = first ?? last ?? DEFAULT_LIMIT;
  const name = last != null ? 'last' : 'first';
  if (!Number.isInteger(count) || count < 0 || count > MAX_LIMIT)
    throw badUserInput(`${name} must be between 0 and ${MAX_LIMIT} (got ${count})`);
  return { count, backward: last != null };
}

/** The page a connection field's arguments ask for, its cursors checked against its order. */
export function translateConnection(
  ctx: RequestContext,
  model: EntityModel,
  args: ConnectionArguments,
): ConnectionPage {
  const related = relationVisibility(ctx);
  // The key breaks ties in the direction of the last sort key (SPEC §11).
  const order = translateOrderBy(model, args.orderBy, related, true);
  const of = orderOf(model.name, args.orderBy);
  const position = (argument: 'after' | 'before') => {
    const cursor = args[argument];
    return cursor == null ? undefined : positionOf(ctx.auth.cursorKey, of, order.length, argument, cursor);
  };
  return {
    ...pageSize(args),
    where: translateWhere(model, args.where, related),
    order,
    after: position('after'),
    before: position('before'),
  };
}

type Row = Record<string, unknown>;

/**
 * What a connection's statement reads: up to one row more than the page (whether more follow), each
 * with its position; how many rows match in all; and whether rows lie beyond the cursor it started from.
 */
export interface ConnectionRows {
  rows: Row[];
  totalCount?: number;
  beyond?: boolean;
}

/**
 * The key under which a compiled row keeps its position: no GraphQL field nor relation key
 * (read-plan.ts `relationKey`: `@` and a response key) has such a name.
 */
export const POSITION = '#position';

/** The connection object of Relay from what its statement read: edges with signed cursors, page info. */
export function connectionValue(
  read: ConnectionRows,
  args: ConnectionArguments,
  ctx: RequestContext,
  model: EntityModel,
) {
  const { count, backward } = pageSize(args);
  const of = orderOf(model.name, args.orderBy);
  const more = read.rows.length > count;
  const rows = read.rows.slice(0, count);
  // A page from the end was read in the reverse order.
  if (backward) rows.reverse();
  const edges = rows.map((row) => ({
    cursor: cursorOf(ctx.auth.cursorKey, of, row[POSITION] as Position),
    node: row,
  }));
  const beyond = read.beyond ?? false;
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? beyond : more,
      hasPreviousPage: backward ? more : beyond,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: read.totalCount,
  };
}
