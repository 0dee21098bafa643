import { type RowSql, sql, type SqlFragment } from '../../security/system/sql-fragment.js';
import { columnJson, KINDS } from './column-types.js';
import { type EntityModel, type ScalarFieldModel } from './entity-model.js';
import { jsonObjectSql } from './json-object.js';

/*
 * What can be aggregated of an entity, and the SQL of each aggregate (SPEC §11). The fields are
 * classified here once, for the GraphQL types (inputs/aggregate-types.ts) and the statements alike.
 */

export type AggregateFunction = 'sum' | 'avg' | 'min' | 'max';
export const AGGREGATE_FUNCTIONS: readonly AggregateFunction[] = ['sum', 'avg', 'min', 'max'];

const NUMERIC = new Set(['Int', 'Float', 'Decimal', 'BigInt']);

/** Its key is an identity, not a quantity nor an order anyone asks the extremes of. */
const isKey = (model: EntityModel, field: ScalarFieldModel) =>
  model.key.length === 1 && field.name === model.primaryKey?.name;

/** Fields that are summed and averaged: numbers, not lists, not the key. */
export const numericFields = (model: EntityModel) =>
  model.scalars.filter((field) => !field.list && NUMERIC.has(field.kind) && !isKey(model, field));

/**
 * Fields whose least and greatest values are asked: those that sort, but booleans and UUIDs (which
 * PostgreSQL has no min or max of), not lists, not the key.
 */
export const comparableFields = (model: EntityModel) =>
  model.scalars.filter(
    (field) =>
      !field.list &&
      KINDS[field.kind].sortable &&
      field.kind !== 'Boolean' &&
      field.kind !== 'UUID' &&
      !isKey(model, field),
  );

/** What an aggregate function takes: sums and averages of numbers, extremes of what compares. */
export const kindOf = (fn: AggregateFunction): 'numeric' | 'comparable' =>
  fn === 'sum' || fn === 'avg' ? 'numeric' : 'comparable';

/** The fields one aggregate function takes. */
export const fieldsOf = (model: EntityModel, fn: AggregateFunction) =>
  kindOf(fn) === 'numeric' ? numericFields(model) : comparableFields(model);

/** The field `name` of `model` that `fn` takes (the schema's types offer no other). */
export function fieldOf(model: EntityModel, fn: AggregateFunction, name: string): ScalarFieldModel {
  const field = fieldsOf(model, fn).find((each) => each.name === name);
  if (!field) throw new Error(`${model.name}.${name} has no ${fn}`);
  return field;
}

/**
 * A sum or an average of a float is a float; of anything else (integers, bigints, decimals) an exact
 * decimal — PostgreSQL's sum of an int is a bigint and its average a numeric — served as a string.
 */
export const isFloatResult = (fn: AggregateFunction, field: ScalarFieldModel) =>
  kindOf(fn) === 'numeric' && field.kind === 'Float';

/** What a statement computes of an aggregate: `count`, and each function of each field asked for. */
export interface AggregateSelection {
  count: boolean;
  fields: { fn: AggregateFunction; field: ScalarFieldModel }[];
}

/**
 * The aggregate of `fn` over `field` of the rows aliased `row`; a sum or average that is not a float
 * as numeric, the type of its filters' values (a sum of integers is a bigint, which "2.5" is not).
 */
export const aggregateSql =
  (fn: AggregateFunction, field: ScalarFieldModel): RowSql =>
  (row) => {
    const value = sql`${sql.raw(fn)}(${sql.id(row, field.columnName)})`;
    return fn === 'min' || fn === 'max' || isFloatResult(fn, field) ? value : sql`(${value})::numeric`;
  };

/** `count(*)`, as an Int (a page of groups or a relation's rows never hold 2^31 rows). */
export const COUNT: SqlFragment = sql`count(*)::int`;

/**
 * The JSON of an aggregate's answer for the rows aliased `row`: `{count, sum: {field: …}, …}` with
 * only what `selection` asks for. Exact values: decimals and bigints as text, like the fields.
 */
export function aggregateJson(selection: AggregateSelection, row: string): [string, SqlFragment][] {
  const pairs: [string, SqlFragment][] = [];
  if (selection.count) pairs.push(['count', COUNT]);
  for (const fn of AGGREGATE_FUNCTIONS) {
    const fields = selection.fields.filter((each) => each.fn === fn);
    if (fields.length === 0) continue;
    const values = fields.map(({ field }): [string, SqlFragment] => {
      const value = aggregateSql(fn, field)(row);
      if (fn === 'min' || fn === 'max') return [field.name, columnJson(field, value)];
      return [field.name, isFloatResult(fn, field) ? value : sql`${value}::text`];
    });
    pairs.push([fn, jsonObjectSql(values)]);
  }
  return pairs;
}
