import { comparisonSql } from '../../security/system/condition-sql.js';
import {
  allOf,
  anyOf,
  atomic,
  FALSE,
  type RowSql,
  sql,
  type SqlFragment,
  tableSql,
  TRUE,
} from '../../security/system/sql-fragment.js';
import { badUserInput } from '../errors.js';
import { type EntityModel, primaryKeyOf, type ToOneModel } from './entity-model.js';
import { toManyLink, toOneLink } from './relation-links.js';
import { SortDirection } from './inputs/entity-inputs.js';
import { type Operator, type ScalarFilter } from './inputs/scalar-filters.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Bounds the size of `in`/`nin` lists: each value is a bind parameter. */
export const MAX_LIST_VALUES = 1000;
/** Bounds AND/OR/NOT nesting, which query-depth limits on the document do not see. */
export const MAX_WHERE_DEPTH = 8;
/**
 * Bounds the sort keys of an order: a connection's page compares each of them with its cursor's
 * (n² terms), and 99 of them took a statement of 700 kB past the request's deadline.
 */
export const MAX_SORT_KEYS = 10;
/**
 * Bounds the relation filters of one `where`: each is a subquery carrying its rows' security (scopes
 * down their chain), and 300 of them in a few kilobytes of variables kept PostgreSQL busy past the
 * request's deadline.
 */
export const MAX_RELATION_FILTERS = 16;

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
 * What the request's security says of related rows. Of a relation id, on a row of `model`: the
 * condition that the related row is one the caller may see, and the expression to sort by that id
 * with hidden rows read as null; each undefined when the plain foreign key reveals nothing. Of an
 * entity: its row security on a row (undefined: every row), which a relation filter's rows pass.
 */
export interface RelationVisibility {
  visible(model: EntityModel, relation: ToOneModel): RowSql | undefined;
  sortKey(model: EntityModel, relation: ToOneModel): RowSql | undefined;
  rows(model: EntityModel, row: string): SqlFragment | undefined;
}

/**
 * The column a `where` or `orderBy` field names: a scalar's, or a relation id's foreign key, with its
 * relation.
 */
export function columnOf(model: EntityModel, field: string): { column: string; relation?: ToOneModel } {
  const relation = model.toOne.find((toOne) => toOne.idField === field);
  const column = relation
    ? relation.column
    : model.scalars.find((scalar) => scalar.name === field)?.columnName;
  if (column === undefined) throw new Error(`${model.name}.${field} is not a column`);
  return { column, relation };
}

/** A condition of `where`, and its negation as SQL's three-valued logic has it. */
export interface Leaf {
  holds: RowSql;
  fails: RowSql;
}

/**
 * The conditions of one field's operator object, on `target` (a column, or an aggregate of a group). A relation id is a value of the related
 * row: a hidden related row reads as null, so `eq`, `in`, `ne`… neither hold nor fail through it (as
 * with null, `NOT` does not match it either) and `isNull: true` holds, just as the field `customer`
 * resolves to null. `visible` is the condition that the related row is visible (none: every one is).
 * The client's values are bind parameters.
 */
export function translateFilter(
  target: RowSql,
  field: string,
  filter: ScalarFilter,
  visible: RowSql | undefined,
): Leaf[] {
  const leaves: Leaf[] = [];
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
    for (const each of Array.isArray(value) ? value : [value]) refuseUnusableValue(field, operator, each);
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

/** What one translation of a `where` shares across its levels. */
interface Translation {
  related: RelationVisibility;
  /** Numbers the aliases of relation filters' rows, unique within the statement. */
  aliases: { next: number };
  /** How many relation filters the `where` holds so far (MAX_RELATION_FILTERS). */
  relationFilters: number;
}

/**
 * Refuses a value PostgreSQL would refuse only on meeting a row: a LIKE pattern ending in its escape
 * character fails when a row gets that far, so the error would tell rows apart that the caller may
 * not see (the gateway's own filter does not bind PostgreSQL's order of evaluation). A NUL character,
 * which no text column can hold, is refused here too rather than as a server error.
 */
function refuseUnusableValue(field: string, operator: Operator, value: unknown) {
  if (typeof value !== 'string') return;
  if (value.includes('\u0000')) throw badUserInput(`${field}.${operator} must not contain a NUL character`);
  if ((operator === 'like' || operator === 'ilike') && /(^|[^\\])(\\\\)*\\$/.test(value))
    throw badUserInput(
      `${field}.${operator} must not end with the escape character \\ (write \\\\ for a backslash)`,
    );
}

/**
 * Turns a `where` argument into a condition on a row of `model` (undefined: none); every given field
 * and operator must hold. `NOT` is pushed down to the conditions (De Morgan), so each condition's own
 * negation applies — which for a relation id of a hidden row is not simply SQL's `not`. A relation
 * filter holds or fails outright (an `exists`, never null) over the related rows the caller may read.
 */
export function translateWhere(
  model: EntityModel,
  where: WhereInput | null | undefined,
  related: RelationVisibility,
): RowSql | undefined {
  const translation: Translation = { related, aliases: { next: 0 }, relationFilters: 0 };
  return conditionOf(where, whereLeaves(model, translation), false, 1);
}

/** The conditions of one field of a condition (not AND, OR, NOT), at its nesting depth. */
export type Leaves = (field: string, value: unknown, depth: number) => Leaf[];

/** The leaves of a where of `model`: its relation filters and its fields' operator objects. */
function whereLeaves(model: EntityModel, translation: Translation): Leaves {
  return (field, value, depth) => {
    const filter = relationFilter(model, field, value as WhereInput | null, translation, depth);
    if (filter) return filter;
    if (value === null) throw badUserInput(`${field} must be an operator object such as { eq: … }`);
    const { column, relation } = columnOf(model, field);
    return translateFilter(
      (row) => sql.id(row, column),
      field,
      value as ScalarFilter,
      relation && translation.related.visible(model, relation),
    );
  };
}

/**
 * A condition with AND, OR and NOT over the conditions `leaves` gives of its other fields (a where's
 * or a having's), bounded in depth.
 */
export function conditionOf(
  where: WhereInput | null | undefined,
  leaves: Leaves,
  negated: boolean,
  depth: number,
  argument: 'where' | 'having' = 'where',
): RowSql | undefined {
  if (!where) return undefined;
  if (depth > MAX_WHERE_DEPTH)
    throw badUserInput(
      argument === 'where'
        ? `where may nest AND/OR/NOT and relation filters at most ${MAX_WHERE_DEPTH} levels deep`
        : `having may nest AND/OR/NOT at most ${MAX_WHERE_DEPTH} levels deep`,
    );
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
    conditionOf(part, leaves, negate, depth + 1, argument) ?? (() => TRUE);
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
      const parts = leaves(field, value, depth);
      conditions.push(...parts.map((leaf) => (negated ? leaf.fails : leaf.holds)));
    }
  }
  if (conditions.length === 1) return conditions[0]!;
  return conditions.length === 0 && !negated ? undefined : all(conditions);
}

/**
 * The conditions of a relation filter (undefined: `field` is not a relation), each an `exists` over
 * the related rows that pass the caller's row security: a to-one relation's row matches the target's
 * where; of a to-many relation's rows `some` match, `every` one matches (a row the where leaves unknown
 * does not) or `none` does. A hidden row never makes `some` hold, and `every` and `none` do not see it.
 * Semi-joins on the relation's key, never counts.
 */
function relationFilter(
  model: EntityModel,
  field: string,
  value: WhereInput | null,
  translation: Translation,
  depth: number,
): Leaf[] | undefined {
  const toOne = model.toOne.find((relation) => relation.name === field);
  const toMany = toOne ? undefined : model.toMany.find((relation) => relation.name === field);
  if (!toOne && !toMany) return undefined;
  const target = (toOne ?? toMany)!.target;
  if (++translation.relationFilters > MAX_RELATION_FILTERS)
    throw badUserInput(`where may hold at most ${MAX_RELATION_FILTERS} relation filters`);
  if (value === null)
    throw badUserInput(
      `${field} must be a condition on ${target.name}${toMany ? ' ({ some }, { every } or { none })' : ''}`,
    );
  const { related, aliases } = translation;
  /** `exists (select 1 from <target> where <link> and <its row security> and <condition>)`. */
  const existsRelated =
    (condition: RowSql | undefined): RowSql =>
    (row) => {
      const alias = `${row}_w${aliases.next++}`;
      const link = toOne
        ? toOneLink(model, row, toOne, alias)
        : toManyLink(model, row, toMany!, alias, (pivot, pivotValue, pivotCondition) => {
            const pivotAlias = `${row}_w${aliases.next++}`;
            const parts = [pivotCondition(pivotAlias), related.rows(pivot, pivotAlias)];
            return sql`select ${pivotValue(pivotAlias)} from ${tableSql(pivot.table)} as ${sql.id(pivotAlias)} where ${allOf(parts.filter((part) => part !== undefined))}`;
          });
      const parts = [link, related.rows(target, alias), condition?.(alias)];
      return atomic(
        sql`exists (select 1 from ${tableSql(target.table)} as ${sql.id(alias)} where ${allOf(parts.filter((part) => part !== undefined))})`,
      );
    };
  const exists = (condition: RowSql | undefined): Leaf => {
    const holds = existsRelated(condition);
    return { holds, fails: (row) => atomic(sql`not ${holds(row)}`) };
  };
  const negation = (leaf: Leaf): Leaf => ({ holds: leaf.fails, fails: leaf.holds });
  const inner = (where: WhereInput) => conditionOf(where, whereLeaves(target, translation), false, depth + 1);
  if (toOne) return [exists(inner(value))];
  const leaves: Leaf[] = [];
  for (const [quantifier, where] of Object.entries(value)) {
    if (where === undefined) continue;
    if (where === null || !['some', 'every', 'none'].includes(quantifier))
      throw badUserInput(`${field}.${quantifier} must be a condition on ${target.name}`);
    const condition = inner(where as WhereInput);
    if (quantifier === 'some') leaves.push(exists(condition));
    else if (quantifier === 'none') leaves.push(negation(exists(condition)));
    else {
      // Every visible row matches: none of them leaves the condition false or unknown.
      const unmet: RowSql | undefined = condition && ((row) => atomic(sql`(${condition(row)}) is not true`));
      leaves.push(negation(exists(unmet ?? (() => FALSE))));
    }
  }
  return leaves;
}

/** One key of an order: an expression on the row, its direction, and whether it can be null. */
export interface OrderTerm {
  key: RowSql;
  direction: SortDirection;
  /** False only where the column cannot hold a null (a key, a NOT NULL column): unknown, true. */
  nullable?: boolean;
}

/**
 * Turns `orderBy` into the order of a row of `model`; the key is always last, so pages are stable
 * (rows with equal sort keys never swap between two requests). A relation id sorts as the caller sees
 * it: a hidden related row sorts as null. The key sorts ascending, or, for a connection's key-set
 * pages (SPEC §11), in the direction of the last sort key (`tiesLikeLast`), so that an order of one
 * direction stays one (a row comparison an index serves).
 */
export function translateOrderBy(
  model: EntityModel,
  orderBy: OrderByInput[] | null | undefined,
  related: RelationVisibility,
  tiesLikeLast = false,
): OrderTerm[] {
  const order: OrderTerm[] = [];
  /** The columns sorted by as they are: a key column among them needs no second term. */
  const sorted = new Set<string>();
  if ((orderBy?.length ?? 0) > MAX_SORT_KEYS)
    throw badUserInput(`orderBy takes at most ${MAX_SORT_KEYS} sort keys (got ${orderBy!.length})`);
  const named = new Set<string>();
  for (const key of orderBy ?? []) {
    const fields = Object.entries(key).filter(([, direction]) => direction != null);
    if (fields.length !== 1) {
      throw badUserInput(`each orderBy entry must set exactly one field (got ${fields.length})`);
    }
    const [field, direction] = fields[0]!;
    // A second key on a field changes no order: the rows it would tell apart are equal by the first.
    if (named.has(field)) throw badUserInput(`orderBy sorts by ${field} twice`);
    named.add(field);
    const { column, relation } = columnOf(model, field);
    const visibleKey = relation && related.sortKey(model, relation);
    if (!visibleKey) sorted.add(column);
    // A hidden related row sorts as null, whatever its column holds.
    const nullable = visibleKey
      ? true
      : relation
        ? relation.nullable
        : model.scalars.find((scalar) => scalar.name === field)!.nullable;
    order.push({ key: visibleKey ?? ((row) => sql.id(row, column)), direction: direction!, nullable });
  }
  const tieBreak = tiesLikeLast ? (order.at(-1)?.direction ?? SortDirection.ASC) : SortDirection.ASC;
  for (const part of model.key) {
    const column = part.column;
    if (!sorted.has(column))
      order.push({ key: (row) => sql.id(row, column), direction: tieBreak, nullable: false });
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
