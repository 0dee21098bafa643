import {
  allOf,
  anyOf,
  atomic,
  FALSE,
  type RowSql,
  sql,
  type SqlFragment,
} from '../../security/system/sql-fragment.js';
import { type Position } from './cursors.js';
import { SortDirection } from './inputs/entity-inputs.js';
import { type OrderTerm } from './query-arguments.js';

/*
 * Key-set pagination over an order of `translateOrderBy` (the key last, so no two rows share a
 * position): a page is the rows after (or before) a position, which stays right under concurrent
 * inserts and deletes, where an offset skips or repeats rows. PostgreSQL sorts nulls last ascending
 * and first descending, and each comparison here says so.
 */

/** The order read backwards: descending nulls first is exactly ascending nulls last reversed. */
export const reversed = (order: readonly OrderTerm[]): OrderTerm[] =>
  order.map((term) => ({
    ...term,
    direction: term.direction === SortDirection.ASC ? SortDirection.DESC : SortDirection.ASC,
  }));

/** A row's position in `order`: each sort key's value as text (as a cursor carries it). */
export const positionSql = (order: readonly OrderTerm[], row: string): SqlFragment =>
  sql`json_build_array(${sql.join(order.map((term) => sql`(${term.key(row)})::text`))})`;

/** The sort key `term` of a row comes strictly after `value` in its direction. */
function beyond(term: OrderTerm, row: string, value: string | null): SqlFragment {
  const key = term.key(row);
  const ascending = term.direction === SortDirection.ASC;
  if (value === null) return ascending ? FALSE : atomic(sql`${key} is not null`);
  if (term.nullable === false) return atomic(ascending ? sql`${key} > ${value}` : sql`${key} < ${value}`);
  return atomic(
    ascending ? sql`(${key} > ${value} or ${key} is null)` : sql`(${key} < ${value} and ${key} is not null)`,
  );
}

/**
 * The sort key `term` of a row is `value` (null too). Like `beyond`, false rather than unknown for a
 * null key, so that the conditions below hold or fail outright.
 */
function at(term: OrderTerm, row: string, value: string | null): SqlFragment {
  const key = term.key(row);
  if (value === null) return atomic(sql`${key} is null`);
  if (term.nullable === false) return atomic(sql`${key} = ${value}`);
  return atomic(sql`(${key} = ${value} and ${key} is not null)`);
}

/**
 * The rows strictly after `position` in `order`: for some sort key, every key before it equal and it
 * beyond. Never unknown, so `not` of it is the rows at or before the position. Where no key can be
 * null and all go one way, it is PostgreSQL's row comparison, `(k1, k2, id) > ($1, $2, $3)`, which an
 * index on those columns serves as one range.
 */
export const afterSql =
  (order: readonly OrderTerm[], position: Position): RowSql =>
  (row) => {
    const direction = order[0]?.direction;
    if (
      order.every(
        (term, index) => term.nullable === false && position[index] !== null && term.direction === direction,
      )
    ) {
      const keys = sql.join(order.map((term) => term.key(row)));
      const values = sql.join(position.map((value) => sql`${value}`));
      return atomic(
        direction === SortDirection.ASC ? sql`(${keys}) > (${values})` : sql`(${keys}) < (${values})`,
      );
    }
    return anyOf(
      order.map((term, index) =>
        allOf([
          ...order.slice(0, index).map((earlier, each) => at(earlier, row, position[each]!)),
          beyond(term, row, position[index]!),
        ]),
      ),
    );
  };

/** The rows strictly before `position` in `order`: after it, the order reversed. */
export const beforeSql = (order: readonly OrderTerm[], position: Position): RowSql =>
  afterSql(reversed(order), position);
