import { type Expression, parseExpressionAt, type Pattern } from 'acorn';
import { type RowFilter } from './policy.js';
import { symbolicCondition, Uncapturable, UserValue } from './symbolic-filter.js';

/**
 * A row filter as data, captured when it is declared: the comparisons it makes, of a property with a
 * literal or with an attribute of the current user, under `and`, `or` and `not`. Every layer can read
 * it (the database's policies render it in SQL); nothing of the declaration's code runs per request
 * to know what it means.
 */
export type Operand = { literal: string | number | boolean | null } | { attribute: string };

export type Condition =
  | { and: Condition[] }
  | { or: Condition[] }
  | { not: Condition }
  | { property: string; operator: Operator; operand: Operand | Operand[] };

export type Operator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'like' | 'ilike';

const OPERATORS = new Set<string>(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'like', 'ilike']);

/**
 * The condition of `filter`, or Uncapturable naming what keeps it from being data. A filter is a
 * function of the current user alone whose body is a condition object written out: object and array
 * literals, literals, and `currentUser.<attribute>`. Reading the clock, a module's variable or calling
 * any code would make it mean something else per call than what was captured, so it is refused
 * rather than evaluated per request behind the database's back.
 */
export function captureFilter(filter: RowFilter): Condition {
  checkSource(filter);
  return toCondition(symbolicCondition(filter));
}

/** Refuses a filter whose source is anything but a condition object of literals and user attributes. */
function checkSource(filter: RowFilter) {
  let parsed: Expression;
  try {
    parsed = parseExpressionAt(`(${filter.toString()})`, 0, { ecmaVersion: 'latest' });
  } catch {
    throw new Uncapturable('its source is not a function expression');
  }
  while (parsed.type === 'ParenthesizedExpression') parsed = parsed.expression;
  if (parsed.type !== 'ArrowFunctionExpression' && parsed.type !== 'FunctionExpression')
    throw new Uncapturable('it is not a function written where it is declared');
  if (parsed.async || parsed.generator) throw new Uncapturable('it is async or a generator');
  if (parsed.params.length > 1 || (parsed.params[0] && parsed.params[0].type !== 'Identifier'))
    throw new Uncapturable('it takes more than the current user');
  const user = (parsed.params[0] as (Pattern & { name?: string }) | undefined)?.name;
  let body = parsed.body;
  if (body.type === 'BlockStatement') {
    const [only] = body.body;
    if (body.body.length !== 1 || only?.type !== 'ReturnStatement' || !only.argument)
      throw new Uncapturable('its body is more than one return of a condition');
    body = only.argument;
  }
  checkExpression(body as Expression, user);
}

function checkExpression(node: Expression, user: string | undefined): void {
  switch (node.type) {
    case 'ParenthesizedExpression':
      return checkExpression(node.expression, user);
    case 'Literal':
      if (node.value instanceof RegExp || typeof node.value === 'bigint')
        throw new Uncapturable(`it uses ${node.raw}`);
      return;
    case 'TemplateLiteral':
      if (node.expressions.length > 0) throw new Uncapturable('it computes a string');
      return;
    case 'UnaryExpression':
      if (node.operator === '-' && node.argument.type === 'Literal') return;
      throw new Uncapturable(`it computes (${node.operator})`);
    case 'ArrayExpression':
      for (const element of node.elements) {
        if (!element || element.type === 'SpreadElement')
          throw new Uncapturable('it spreads or skips in a list');
        checkExpression(element, user);
      }
      return;
    case 'ObjectExpression':
      for (const property of node.properties) {
        if (property.type !== 'Property' || property.computed || property.kind !== 'init' || property.method)
          throw new Uncapturable('it builds an object other than by writing it out');
        checkExpression(property.value as Expression, user);
      }
      return;
    case 'MemberExpression':
      if (
        user !== undefined &&
        node.object.type === 'Identifier' &&
        node.object.name === user &&
        !node.computed &&
        node.property.type === 'Identifier'
      )
        return;
      throw new Uncapturable('it reads something other than an attribute of the current user');
    case 'Identifier':
      if (node.name === 'undefined') return;
      throw new Uncapturable(
        node.name === user
          ? 'it uses the current user whole'
          : `it reads ${node.name}, which is not the current user`,
      );
    case 'CallExpression':
    case 'NewExpression':
      throw new Uncapturable('it calls code');
    default:
      throw new Uncapturable(`it computes (${node.type})`);
  }
}

/**
 * Which user attribute each property of the condition is compared with: `clientId =
 * currentUser.clientId` gives [clientId, clientId], under and/or/not too.
 */
export function comparedAttributes(condition: Condition): [property: string, attribute: string][] {
  if ('and' in condition) return condition.and.flatMap(comparedAttributes);
  if ('or' in condition) return condition.or.flatMap(comparedAttributes);
  if ('not' in condition) return comparedAttributes(condition.not);
  return [condition.operand]
    .flat()
    .flatMap((operand): [string, string][] =>
      'attribute' in operand ? [[condition.property, operand.attribute]] : [],
    );
}

/** The attributes of the current user a condition reads. */
export const attributesOf = (condition: Condition): string[] =>
  comparedAttributes(condition).map(([, attribute]) => attribute);

/** The condition object a captured filter returns (MikroORM's operators), as a Condition. */
function toCondition(node: Record<string, unknown>): Condition {
  const parts: Condition[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (value === undefined) continue;
    if (key === '$and' || key === '$or') {
      if (!Array.isArray(value)) throw new Uncapturable(`${key} takes a list`);
      const each = value.map((part) => toCondition(part as Record<string, unknown>));
      parts.push(key === '$and' ? { and: each } : { or: each });
    } else if (key === '$not') {
      parts.push({ not: toCondition(value as Record<string, unknown>) });
    } else if (key.startsWith('$')) {
      throw new Uncapturable(`operator ${key} is not one a condition takes here`);
    } else if (isOperand(value) || Array.isArray(value)) {
      parts.push(comparison(key, Array.isArray(value) ? 'in' : 'eq', value));
    } else {
      const operators = Object.entries(value as Record<string, unknown>);
      if (operators.length === 0) throw new Uncapturable(`${key} has an empty condition`);
      for (const [operator, operand] of operators) {
        const name = operator.replace(/^\$/, '');
        if (!operator.startsWith('$') || !OPERATORS.has(name))
          throw new Uncapturable(
            `${key}.${operator}: conditions on a relation's properties are not captured`,
          );
        parts.push(comparison(key, name as Operator, operand));
      }
    }
  }
  if (parts.length === 0) throw new Uncapturable('it is an empty condition');
  return parts.length === 1 ? parts[0]! : { and: parts };
}

/** A value a column is compared with as it is: null, a string, a number or a boolean. */
const isLiteral = (value: unknown): value is string | number | boolean | null =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

const isOperand = (value: unknown) => value instanceof UserValue || isLiteral(value);

function comparison(property: string, operator: Operator, value: unknown): Condition {
  const operand = (each: unknown): Operand => {
    if (each instanceof UserValue) return { attribute: each.attribute };
    if (isLiteral(each)) return { literal: each };
    throw new Uncapturable(`${property} is compared with ${JSON.stringify(each)}`);
  };
  const list = operator === 'in' || operator === 'nin';
  if (list !== Array.isArray(value))
    throw new Uncapturable(`${property}.${operator} takes ${list ? 'a list' : 'one value'}`);
  return { property, operator, operand: Array.isArray(value) ? value.map(operand) : operand(value) };
}
