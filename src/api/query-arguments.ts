import { comparisonSql } from '../../security/system/condition-sql.js';
import { allOf, anyOf, atomic, type RowSql, sql, TRUE } from '../../security/system/sql-fragment.js';
import { badUserInput } from '../errors.js';
import { type EntityModel, primaryKeyOf, type ToOneModel } from './entity-model.js';
import { SortDirection } from './inputs/entity-inputs.js';
import { type Operator, type ScalarFilter } from './inputs/scalar-filters.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Bounds the size of `in`/`nin` lists: each value is a bind parameter. */
export const MAX_LIST_VALUES = 1000;
/** Bounds AND/OR/NOT nesting, which query-depth limits on the document do not see. */
export const MAX_WHERE_DEPTH = 8;

export interface WhereInput {
  AND?: WhereInput[] | null;
  OR?: WhereInput[] | null;
  NOT?: WhereInput | null;
  [field: string]: ScalarFilter | WhereInput[] | WhereInput | null | undefined;
}

export type OrderByInput = Record<string, SortDirection | null | undefined>;

export interface ListArguments {
  where?: WhereInput | null;
  orderBy?: OrderByInput[] | null;
  limit?: number | null;
  offset?: number | null;
}

export function pagination(args: Pick<ListArguments, 'limit' | 'offset'>): { limit: number; offset: number } {
  const limit = args.limit ?? DEFAULT_LIMIT;
  const offset = args.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) {
    throw badUserInput(`limit must be between 0 and ${MAX_LIMIT} (got ${limit})`);
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw badUserInput(`offset must not be negative (got ${offset})`);
  }
  return { limit, offset };
}

/**
 * What the request's security says of relation ids, on a row of the entity: the condition that the
 * related row is one the caller may see, and the expression to sort by that id with hidden rows read
 * as null; each undefined when the plain foreign key reveals nothing.
 */
export interface RelationVisibility {
  visible(relation: ToOneModel): RowSql | undefined;
  sortKey(relation: ToOneModel): RowSql | undefined;
}

/**
 * The column a `where` or `orderBy` field names: a scalar's, or a relation id's foreign key, with its
 * relation.
 */
function columnOf(model: EntityModel, field: string): { column: string; relation?: ToOneModel } {
  const relation = model.toOne.find((toOne) => toOne.idField === field);
  const column = relation
    ? relation.column
    : model.scalars.find((scalar) => scalar.name === field)?.columnName;
  if (column === undefined) throw new Error(`${model.name}.${field} is not a column`);
  return { column, relation };
}

/** A condition of `where`, and its negation as SQL's three-valued logic has it. */
interface Leaf {
  holds: RowSql;
  fails: RowSql;
}

/**
 * The conditions of one field's operator object, on `column`. A relation id is a value of the related
 * row: a hidden related row reads as null, so `eq`, `in`, `ne`… neither hold nor fail through it (as
 * with null, `NOT` does not match it either) and `isNull: true` holds, just as the field `customer`
 * resolves to null. `visible` is the condition that the related row is visible (none: every one is).
 * The client's values are bind parameters.
 */
function translateFilter(
  column: string,
  field: string,
  filter: ScalarFilter,
  visible: RowSql | undefined,
): Leaf[] {
  const leaves: Leaf[] = [];
  const target = (row: string) => sql.id(row, column);
  for (const [operator, value] of Object.entries(filter) as [Operator, unknown][]) {
    if (value === undefined) continue;
    if (operator === 'isNull') {
      if (value === null) throw badUserInput(`${field}.isNull must be true or false`);
      const isNull: RowSql = visible
        ? (row) => atomic(sql`(${target(row)} is null or not ${visible(row)})`)
        : (row) => comparisonSql(target(row), 'eq', null);
      const notNull: RowSql = visible ?? ((row) => comparisonSql(target(row), 'ne', null));
      leaves.push(value ? { holds: isNull, fails: notNull } : { holds: notNull, fails: isNull });
      continue;
    }
    if (value === null)
      throw badUserInput(`${field}.${operator} must not be null; use isNull to test for null`);
    if (Array.isArray(value) && value.length > MAX_LIST_VALUES) {
      throw badUserInput(
        `${field}.${operator} takes at most ${MAX_LIST_VALUES} values (got ${value.length})`,
      );
    }
    const operand = Array.isArray(value) ? value.map((each) => sql`${each}`) : sql`${value}`;
    const condition: RowSql = (row) => comparisonSql(target(row), operator, operand);
    leaves.push(
      visible
        ? {
            holds: (row) => atomic(sql`(${condition(row)} and ${visible(row)})`),
            fails: (row) => atomic(sql`(not (${condition(row)}) and ${visible(row)})`),
          }
        : { holds: condition, fails: (row) => atomic(sql`not (${condition(row)})`) },
    );
  }
  return leaves;
}

/**
 * Turns a `where` argument into a condition on a row of `model` (undefined: none); every given field
 * and operator must hold. `NOT` is pushed down to the conditions (De Morgan), so each condition's own
 * negation applies — which for a relation id of a hidden row is not simply SQL's `not`.
 */
export function translateWhere(
  model: EntityModel,
  where: WhereInput | null | undefined,
  related: RelationVisibility,
  negated = false,
  depth = 1,
): RowSql | undefined {
  if (!where) return undefined;
  if (depth > MAX_WHERE_DEPTH)
    throw badUserInput(`where may nest AND/OR/NOT at most ${MAX_WHERE_DEPTH} levels deep`);
  // An empty OR matches nothing and an empty AND everything, as in logic.
  const all =
    (parts: RowSql[]): RowSql =>
    (row) =>
      (negated ? anyOf : allOf)(parts.map((part) => part(row)));
  const any =
    (parts: RowSql[]): RowSql =>
    (row) =>
      (negated ? allOf : anyOf)(parts.map((part) => part(row)));
  // A part without conditions holds (negated, it comes back as the empty OR, which does not).
  const nested = (part: WhereInput, negate: boolean): RowSql =>
    translateWhere(model, part, related, negate, depth + 1) ?? (() => TRUE);
  const conditions: RowSql[] = [];
  for (const [field, value] of Object.entries(where)) {
    if (value === undefined) continue;
    if (field === 'AND' || field === 'OR') {
      if (value === null) throw badUserInput(`${field} must be a list`);
      const parts = (value as WhereInput[]).map((part) => nested(part, negated));
      conditions.push(field === 'AND' ? all(parts) : any(parts));
    } else if (field === 'NOT') {
      if (value === null) throw badUserInput('NOT must be a condition');
      conditions.push(nested(value as WhereInput, !negated));
    } else {
      if (value === null) throw badUserInput(`${field} must be an operator object such as { eq: … }`);
      const { column, relation } = columnOf(model, field);
      const leaves = translateFilter(
        column,
        field,
        value as ScalarFilter,
        relation && related.visible(relation),
      );
      conditions.push(...leaves.map((leaf) => (negated ? leaf.fails : leaf.holds)));
    }
  }
  if (conditions.length === 1) return conditions[0]!;
  return conditions.length === 0 && !negated ? undefined : all(conditions);
}

/** One key of an order: an expression on the row and its direction. */
export interface OrderTerm {
  key: RowSql;
  direction: SortDirection;
}

/**
 * Turns `orderBy` into the order of a row of `model`; the key is always last, so pages are stable
 * (rows with equal sort keys never swap between two requests). A relation id sorts as the caller sees
 * it: a hidden related row sorts as null.
 */
export function translateOrderBy(
  model: EntityModel,
  orderBy: OrderByInput[] | null | undefined,
  related: RelationVisibility,
): OrderTerm[] {
  const order: OrderTerm[] = [];
  /** The columns sorted by as they are: a key column among them needs no second term. */
  const sorted = new Set<string>();
  for (const key of orderBy ?? []) {
    const fields = Object.entries(key).filter(([, direction]) => direction != null);
    if (fields.length !== 1) {
      throw badUserInput(`each orderBy entry must set exactly one field (got ${fields.length})`);
    }
    const [field, direction] = fields[0]!;
    const { column, relation } = columnOf(model, field);
    const visibleKey = relation && related.sortKey(relation);
    if (!visibleKey) sorted.add(column);
    order.push({ key: visibleKey ?? ((row) => sql.id(row, column)), direction: direction! });
  }
  for (const part of model.key) {
    const column = part.column;
    if (!sorted.has(column)) order.push({ key: (row) => sql.id(row, column), direction: SortDirection.ASC });
  }
  return order;
}

/** The condition that a row of `model` has the key `key` (as `parseKey` parses it). */
export function keySql(model: EntityModel, key: Record<string, unknown>): RowSql {
  return (row) =>
    allOf(model.key.map((part) => comparisonSql(sql.id(row, part.column), 'eq', sql`${key[part.name]}`)));
}

/**
 * The condition that picks one row by the key arguments of a by-key field (`{ id }`, or one
 * argument per column of a composite key: `{ staffId, skill }`), each parsed like an id.
 */
export function parseKey(model: EntityModel, args: Record<string, unknown>): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const part of model.key) {
    const value = args[part.argument];
    if (value === undefined || value === null) throw badUserInput(`${part.argument} is required`);
    key[part.name] =
      model.key.length === 1
        ? parseId(model, value as string)
        : part.relation
          ? parseId(part.relation.target, value as string, part.argument)
          : value;
  }
  return key;
}

/** Parses an `ID` argument for the entity's key type; a malformed id is bad input, not a missing row. */
export function parseId(model: EntityModel, id: string | number, field = 'id'): string | number {
  const text = String(id);
  const { kind } = primaryKeyOf(model);
  if (kind === 'String') return text;
  if (kind === 'BigInt') {
    if (!/^-?\d{1,19}$/.test(text) || BigInt(text) > 2n ** 63n - 1n || BigInt(text) < -(2n ** 63n)) {
      throw badUserInput(`${field} must be an integer id of ${model.name} (got "${text.slice(0, 40)}")`);
    }
    return text;
  }
  if (!/^-?\d{1,10}$/.test(text) || Math.abs(Number(text)) > 2 ** 31 - 1) {
    throw badUserInput(`${field} must be an integer id of ${model.name} (got "${text.slice(0, 40)}")`);
  }
  return Number(text);
}

/** Every field a where or orderBy argument reads, however deeply nested. */
export function referencedFields(args: Pick<ListArguments, 'where' | 'orderBy'>): Set<string> {
  const fields = new Set<string>();
  const visit = (where: WhereInput | null | undefined) => {
    for (const [field, value] of Object.entries(where ?? {})) {
      if (field === 'AND' || field === 'OR') (value as WhereInput[] | null)?.forEach(visit);
      else if (field === 'NOT') visit(value as WhereInput | null);
      else fields.add(field);
    }
  };
  visit(args.where);
  for (const key of args.orderBy ?? []) for (const field of Object.keys(key)) fields.add(field);
  return fields;
}
