import { type EntityMetadata } from '@mikro-orm/core';
import { attributesOf, type Condition, type Operand, type Operator } from './captured-filter.js';
import { allOf, anyOf, atomic, FALSE, sql, type SqlFragment, TRUE } from './sql-fragment.js';

/**
 * How a condition's operands reach SQL — the one thing the two layers render differently:
 * - the gateway (`boundValues`): the user's values and the literals as bind parameters;
 * - the database's policies: the user's values read from the request's settings, the literals as
 *   constants (a policy has no parameters; database-policies.ts);
 * - `security:explain` (`inlineValues`): both as constants, for a person to read.
 */
export interface OperandValues {
  /** The user's `attribute`, compared with a column of `columnType`. */
  attribute(attribute: string, columnType: string | undefined): SqlFragment;
  literal(value: string | number | boolean | null): SqlFragment;
}

/** A value a user attribute holds: what the gateway binds for it. */
export type AttributeValue = string | number | boolean;

/** The gateway's operands: the user's values (`valueOf`) and the literals, as bind parameters. */
export const boundValues = (valueOf: (attribute: string) => AttributeValue): OperandValues => ({
  attribute: (attribute) => sql`${valueOf(attribute)}`,
  literal: (value) => sql`${value}`,
});

/** `security:explain`'s operands: the user's values and the literals written out. */
export const inlineValues = (valueOf: (attribute: string) => AttributeValue): OperandValues => ({
  attribute: (attribute) => sql.lit(valueOf(attribute)),
  literal: (value) => sql.lit(value),
});

const COMPARISONS: Record<Operator, string> = {
  eq: '=',
  ne: '<>',
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  in: 'in',
  nin: 'not in',
  like: 'like',
  ilike: 'ilike',
};

/**
 * `<target> <operator> <operand>`, as every condition of grantgate compares a column — a rule's and a
 * client's `where` alike: `null` (no operand) is `is null` / `is not null`, an empty `in` matches
 * nothing and an empty `not in` everything.
 */
export function comparisonSql(
  target: SqlFragment,
  operator: Operator,
  operand: SqlFragment | readonly SqlFragment[] | null,
): SqlFragment {
  if (operand === null) {
    if (operator === 'eq') return atomic(sql`${target} is null`);
    if (operator === 'ne') return atomic(sql`${target} is not null`);
    // `> null` holds for no row: a rule written so is a mistake, and start-up stops on it.
    throw new Error(`${operator} takes a value, not null`);
  }
  if (!Object.hasOwn(COMPARISONS, operator)) throw new Error(`unknown operator ${operator}`);
  const comparison = sql.raw(COMPARISONS[operator]);
  if (Array.isArray(operand)) {
    if (operand.length === 0) return operator === 'in' ? FALSE : TRUE;
    return atomic(sql`${target} ${comparison} (${sql.join(operand)})`);
  }
  return atomic(sql`${target} ${comparison} ${operand as SqlFragment}`);
}

/**
 * A captured condition (captured-filter.ts) in SQL on `meta`'s columns, each named by `column` (on
 * the row's alias; unqualified in a policy). The one renderer of rules' conditions: the gateway's row
 * filters, the database's policies and explain all come from here.
 */
export function conditionSql(
  meta: EntityMetadata,
  condition: Condition,
  values: OperandValues,
  column: (name: string) => SqlFragment,
): SqlFragment {
  const each = (parts: Condition[]) => parts.map((part) => conditionSql(meta, part, values, column));
  // allOf and anyOf parenthesise what they join: a part is a comparison or parenthesised itself.
  if ('and' in condition) return allOf(each(condition.and));
  if ('or' in condition) return anyOf(each(condition.or));
  if ('not' in condition) return atomic(sql`not (${conditionSql(meta, condition.not, values, column)})`);
  const prop = meta.properties[condition.property as never] as EntityMetadata['props'][number] | undefined;
  if (!prop?.fieldNames?.length)
    throw new Error(`${condition.property} is not a column of ${meta.className}`);
  const render = (one: Operand) =>
    'attribute' in one ? values.attribute(one.attribute, prop.columnTypes?.[0]) : values.literal(one.literal);
  const { operand } = condition;
  const rendered = Array.isArray(operand)
    ? operand.map(render)
    : 'literal' in operand && operand.literal === null
      ? null
      : render(operand);
  return comparisonSql(column(prop.fieldNames[0]!), condition.operator, rendered);
}

/**
 * A rule's condition for a user whose values are known when it is rendered (the gateway, explain):
 * no row at all when the user lacks an attribute it reads, or has one whose value cannot stand in a
 * filter (`valueOf` gives undefined) — a part of it with another branch would otherwise still admit
 * rows that the rule means for users with that value.
 */
export function userConditionSql(
  meta: EntityMetadata,
  condition: Condition,
  valueOf: (attribute: string) => AttributeValue | undefined,
  column: (name: string) => SqlFragment,
  render: (valueOf: (attribute: string) => AttributeValue) => OperandValues = boundValues,
): SqlFragment {
  const values = new Map(attributesOf(condition).map((attribute) => [attribute, valueOf(attribute)]));
  if ([...values.values()].some((value) => value === undefined)) return FALSE;
  return conditionSql(
    meta,
    condition,
    render((attribute) => values.get(attribute)!),
    column,
  );
}
