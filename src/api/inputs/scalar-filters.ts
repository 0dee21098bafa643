import { GraphQLBoolean, GraphQLFloat, GraphQLInt, type GraphQLScalarType, GraphQLString } from 'graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { type ClassType, Field, InputType } from 'type-graphql';
import { type ScalarKind } from '../entity-model.js';

export type Operator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'like' | 'ilike' | 'isNull';

/** One operator object, as it arrives from GraphQL: `{ gt: 300, lte: 1000 }`. */
export type ScalarFilter = Partial<Record<Operator, unknown>>;

const COMPARISONS: Operator[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'];

/** Pattern matching only makes sense on text; ordering comparisons not on booleans. */
const OPERATORS: Record<ScalarKind, Operator[]> = {
  String: [...COMPARISONS, 'like', 'ilike'],
  Int: COMPARISONS,
  Float: COMPARISONS,
  DateTime: COMPARISONS,
  Boolean: ['eq', 'ne', 'isNull'],
};

const GRAPHQL_TYPES: Record<ScalarKind, GraphQLScalarType> = {
  String: GraphQLString,
  Int: GraphQLInt,
  Float: GraphQLFloat,
  DateTime: DateTimeISOResolver,
  Boolean: GraphQLBoolean,
};

const DESCRIPTIONS: Record<Operator, string> = {
  eq: 'equal to',
  ne: 'not equal to (rows where the field is null do not match)',
  gt: 'greater than',
  gte: 'greater than or equal to',
  lt: 'less than',
  lte: 'less than or equal to',
  in: 'one of the values (at most 1000)',
  nin: 'none of the values (at most 1000)',
  like: 'matches an SQL LIKE pattern (% and _), case-sensitive',
  ilike: 'matches an SQL LIKE pattern (% and _), case-insensitive',
  isNull: 'true: the field is null; false: it is not',
};

export function operatorsOf(kind: ScalarKind): readonly Operator[] {
  return OPERATORS[kind];
}

function createScalarFilter(kind: ScalarKind): ClassType {
  @InputType(`${kind}Filter`, {
    description: `Conditions on a ${kind} field; all given conditions must hold`,
  })
  class Filter {}
  for (const operator of OPERATORS[kind]) {
    const scalar = GRAPHQL_TYPES[kind];
    const type =
      operator === 'isNull' ? GraphQLBoolean : operator === 'in' || operator === 'nin' ? [scalar] : scalar;
    Field(() => type, { nullable: true, description: DESCRIPTIONS[operator] })(Filter.prototype, operator);
  }
  return Filter;
}

/** The operator input of each scalar kind, created once: type-graphql's type names are global. */
export const scalarFilterInputs = Object.fromEntries(
  (Object.keys(OPERATORS) as ScalarKind[]).map((kind) => [kind, createScalarFilter(kind)]),
) as Record<ScalarKind, ClassType>;

export const scalarTypeOf = (kind: ScalarKind) => GRAPHQL_TYPES[kind];
