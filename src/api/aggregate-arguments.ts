import { type RowSql, sql, type SqlFragment } from '../../security/system/sql-fragment.js';
import { badUserInput } from '../errors.js';
import { AGGREGATE_FUNCTIONS, type AggregateFunction, aggregateSql, COUNT, fieldOf } from './aggregates.js';
import { columnJson } from './column-types.js';
import { type EntityModel, primaryKeyOf } from './entity-model.js';
import { SortDirection } from './inputs/entity-inputs.js';
import { type ScalarFilter } from './inputs/scalar-filters.js';
import {
  columnOf,
  conditionOf,
  type Leaves,
  type OrderByInput,
  type OrderTerm,
  type RelationVisibility,
  translateFilter,
  type WhereInput,
} from './query-arguments.js';

/*
 * The arguments of a group-by (SPEC §11), translated like a list's: `by` into the groups' keys,
 * `having` into a condition on their aggregates, `orderBy` into their order. Checked for readable
 * fields before (request-checks.ts `authorizeGroupBy`).
 */

/**
 * One field a group-by groups by: its value on a row, the column that holds it among the rows with
 * their keys (compiled-read.ts `groupsStatement`), and that column as the answer's JSON.
 */
export interface GroupKey {
  field: string;
  value: RowSql;
  column: string;
  json: (column: SqlFragment) => SqlFragment;
}

/**
 * The keys of `by`, each once. A relation id groups as the caller sees it: a hidden related row's
 * rows fall in the group whose id is null, as they sort.
 */
export function translateBy(
  model: EntityModel,
  by: readonly string[],
  related: RelationVisibility,
): GroupKey[] {
  if (by.length === 0) throw badUserInput('by must name at least one field');
  return [...new Set(by)].map((field, index) => {
    const { column, relation } = columnOf(model, field);
    const value = (relation && related.sortKey(model, relation)) ?? ((row: string) => sql.id(row, column));
    const kind = relation
      ? primaryKeyOf(relation.target).kind
      : model.scalars.find((scalar) => scalar.name === field)!.kind;
    // `@`: no column of a table is expected to be named so, and no GraphQL field can be.
    return { field, value, column: `@key${index}`, json: (key) => columnJson({ kind, list: false }, key) };
  });
}

/** `having` of a group-by: conditions on `count` and on each function of each field, as a where's. */
export function translateHaving(
  model: EntityModel,
  having: WhereInput | null | undefined,
): RowSql | undefined {
  const leaves: Leaves = (name, value) => {
    if (value === null) throw badUserInput(`having.${name} must be a condition`);
    if (name === 'count') return translateFilter(() => COUNT, 'count', value as ScalarFilter, undefined);
    const fn = name as AggregateFunction;
    return Object.entries(value as Record<string, ScalarFilter | null | undefined>).flatMap(
      ([fieldName, filter]) => {
        if (filter === undefined) return [];
        const path = `having.${fn}.${fieldName}`;
        if (filter === null) throw badUserInput(`${path} must be an operator object such as { gt: … }`);
        return translateFilter(aggregateSql(fn, fieldOf(model, fn, fieldName)), path, filter, undefined);
      },
    );
  };
  return conditionOf(having, leaves, false, 1, 'having');
}

/** The input of one group sort key: `{ count: DESC }`, `{ key: { country: ASC } }`, `{ sum: { freight: DESC } }`. */
export type GroupOrderByInput = Partial<
  Record<'count', SortDirection | null> & Record<'key' | AggregateFunction, OrderByInput | null>
>;

/**
 * The order of the groups: each entry names exactly one count, key or aggregate; the keys follow, so
 * that pages of groups are stable.
 */
export function translateGroupOrder(
  model: EntityModel,
  orderBy: readonly GroupOrderByInput[] | null | undefined,
  keys: readonly GroupKey[],
): OrderTerm[] {
  const order: OrderTerm[] = [];
  for (const entry of orderBy ?? []) {
    /** Each sort key the entry sets: `count`, or a field under `key`, `sum`, `avg`, `min` or `max`. */
    const set: { under?: string; field?: string; direction: SortDirection }[] = [];
    for (const [name, value] of Object.entries(entry)) {
      if (value == null) continue;
      if (name === 'count') set.push({ direction: value as SortDirection });
      else
        for (const [field, direction] of Object.entries(value as OrderByInput))
          if (direction != null) set.push({ under: name, field, direction });
    }
    if (set.length !== 1)
      throw badUserInput(
        `each orderBy entry must set exactly one count, key or aggregate (got ${set.length})`,
      );
    const { under, field, direction } = set[0]!;
    if (under === undefined) order.push({ key: () => COUNT, direction });
    else if (under === 'key') {
      const key = keys.find((each) => each.field === field);
      if (!key) throw badUserInput(`orderBy key.${field}: ${field} is not among by`);
      order.push({ key: (row) => sql.id(row, key.column), direction });
    } else {
      const fn = under as AggregateFunction;
      order.push({ key: aggregateSql(fn, fieldOf(model, fn, field!)), direction });
    }
  }
  for (const key of keys) order.push({ key: (row) => sql.id(row, key.column), direction: SortDirection.ASC });
  return order;
}

/** The fields a group-by's arguments read, for the field checks: `by`, `having`'s and `orderBy`'s. */
export function fieldsReadByGroups(
  by: readonly string[],
  having: WhereInput | null | undefined,
  orderBy: readonly GroupOrderByInput[] | null | undefined,
): string[] {
  const fields = new Set(by);
  const visit = (condition: WhereInput | null | undefined) => {
    for (const [name, value] of Object.entries(condition ?? {})) {
      if (name === 'AND' || name === 'OR') (value as WhereInput[] | null)?.forEach(visit);
      else if (name === 'NOT') visit(value as WhereInput | null);
      else if ((AGGREGATE_FUNCTIONS as readonly string[]).includes(name))
        for (const field of Object.keys((value as object | null) ?? {})) fields.add(field);
    }
  };
  visit(having);
  for (const entry of orderBy ?? [])
    for (const [name, value] of Object.entries(entry))
      if (name !== 'count' && value) for (const field of Object.keys(value)) fields.add(field);
  return [...fields];
}
