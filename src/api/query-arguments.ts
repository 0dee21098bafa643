import { type FilterQuery, type QueryOrderMap, raw } from '@mikro-orm/core';
import { badUserInput } from '../errors.js';
import { type EntityModel, primaryKeyOf, type ToOneModel } from './entity-model.js';
import { type SortDirection } from './inputs/entity-inputs.js';
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

const MIKRO_OPERATOR: Record<Exclude<Operator, 'isNull'>, string> = {
  eq: '$eq',
  ne: '$ne',
  gt: '$gt',
  gte: '$gte',
  lt: '$lt',
  lte: '$lte',
  in: '$in',
  nin: '$nin',
  like: '$like',
  ilike: '$ilike',
};

/**
 * What the request's security says of relation ids: the condition that the related row is one the
 * caller may see, and the expression to sort by that id with hidden rows read as null; each undefined
 * when the plain foreign key reveals nothing.
 */
export interface RelationVisibility {
  visible(relation: ToOneModel): FilterQuery<object> | undefined;
  sortKey(relation: ToOneModel): PropertyKey | undefined;
}

/** Maps API field names to entity property names: `customerId` filters the `customer` relation's key. */
function propertyOf(model: EntityModel, field: string): string {
  return model.toOne.find((relation) => relation.idField === field)?.name ?? field;
}

/** A condition of `where`, and its negation as SQL's three-valued logic has it. */
interface Leaf {
  holds: FilterQuery<object>;
  fails: FilterQuery<object>;
}

/**
 * The conditions of one field's operator object. A relation id is a value of the related row: a
 * hidden related row reads as null, so `eq`, `in`, `ne`… neither hold nor fail through it (as with
 * null, `NOT` does not match it either) and `isNull: true` holds, just as the field `customer`
 * resolves to null. `visible` is the condition that the related row is visible (none: every one is).
 */
function translateFilter(
  property: string,
  field: string,
  filter: ScalarFilter,
  visible: FilterQuery<object> | undefined,
): Leaf[] {
  const leaves: Leaf[] = [];
  for (const [operator, value] of Object.entries(filter) as [Operator, unknown][]) {
    if (value === undefined) continue;
    if (operator === 'isNull') {
      if (value === null) throw badUserInput(`${field}.isNull must be true or false`);
      const isNull = visible ? { $or: [{ [property]: null }, { $not: visible }] } : { [property]: null };
      const notNull = visible ?? { [property]: { $ne: null } };
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
    const condition = { [property]: { [MIKRO_OPERATOR[operator]]: value } };
    leaves.push(
      visible
        ? { holds: { $and: [condition, visible] }, fails: { $and: [{ $not: condition }, visible] } }
        : { holds: condition, fails: { $not: condition } },
    );
  }
  return leaves;
}

/**
 * Turns a `where` argument into a MikroORM condition; every given field and operator must hold.
 * `NOT` is pushed down to the conditions (De Morgan), so each condition's own negation applies —
 * which for a relation id of a hidden row is not simply SQL's `not`.
 */
export function translateWhere(
  model: EntityModel,
  where: WhereInput | null | undefined,
  related: RelationVisibility,
  negated = false,
  depth = 1,
): FilterQuery<object> {
  if (!where) return {};
  if (depth > MAX_WHERE_DEPTH)
    throw badUserInput(`where may nest AND/OR/NOT at most ${MAX_WHERE_DEPTH} levels deep`);
  // An empty OR matches nothing and an empty AND everything, as in logic (and as MikroORM reads them).
  const all = (parts: FilterQuery<object>[]) => (negated ? { $or: parts } : { $and: parts });
  const any = (parts: FilterQuery<object>[]) => (negated ? { $and: parts } : { $or: parts });
  const conditions: FilterQuery<object>[] = [];
  for (const [field, value] of Object.entries(where)) {
    if (value === undefined) continue;
    if (field === 'AND' || field === 'OR') {
      if (value === null) throw badUserInput(`${field} must be a list`);
      const parts = (value as WhereInput[]).map((part) =>
        translateWhere(model, part, related, negated, depth + 1),
      );
      conditions.push(field === 'AND' ? all(parts) : any(parts));
    } else if (field === 'NOT') {
      if (value === null) throw badUserInput('NOT must be a condition');
      conditions.push(translateWhere(model, value as WhereInput, related, !negated, depth + 1));
    } else {
      if (value === null) throw badUserInput(`${field} must be an operator object such as { eq: … }`);
      const relation = model.toOne.find((toOne) => toOne.idField === field);
      const leaves = translateFilter(
        relation?.name ?? field,
        field,
        value as ScalarFilter,
        relation && related.visible(relation),
      );
      conditions.push(...leaves.map((leaf) => (negated ? leaf.fails : leaf.holds)));
    }
  }
  if (conditions.length === 1) return conditions[0]!;
  return conditions.length === 0 && !negated ? {} : all(conditions);
}

/**
 * Turns `orderBy` into MikroORM's order; the primary key is always the last key, so pages are stable
 * (rows with equal sort keys never swap between two requests). A relation id sorts as the caller sees
 * it: a hidden related row sorts as null.
 */
export function translateOrderBy(
  model: EntityModel,
  orderBy: OrderByInput[] | null | undefined,
  related: RelationVisibility,
): QueryOrderMap<object>[] {
  const order: QueryOrderMap<object>[] = [];
  for (const key of orderBy ?? []) {
    const fields = Object.entries(key).filter(([, direction]) => direction != null);
    if (fields.length !== 1) {
      throw badUserInput(`each orderBy entry must set exactly one field (got ${fields.length})`);
    }
    const [field, direction] = fields[0]!;
    const relation = model.toOne.find((toOne) => toOne.idField === field);
    order.push({
      [(relation && related.sortKey(relation)) ?? sortKeyOf(model, propertyOf(model, field))]: direction,
    });
  }
  for (const part of model.key) {
    const key = sortKeyOf(model, part.name);
    if (!order.some((entry) => key in entry)) order.push({ [key]: 'asc' });
  }
  return order;
}

/**
 * The order key of a property: its name, or for a column whose name holds a dot (`"Name.Prefix"`)
 * the column itself as SQL, since MikroORM splits an order-by column at its dots.
 */
function sortKeyOf(model: EntityModel, property: string): string {
  const column = model.scalars.find((field) => field.name === property)?.columnName;
  return column?.includes('.')
    ? raw((alias: string) => `${alias}."${column.replaceAll('"', '""')}"`)
    : property;
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
