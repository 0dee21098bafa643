import { GraphQLBoolean } from 'graphql';
import { type ClassType, Field, InputType } from 'type-graphql';
import { KINDS, type Operator, type ScalarKind } from '../column-types.js';
import { type ScalarFieldModel } from '../entity-model.js';

export type { Operator };

/** One operator object, as it arrives from GraphQL: `{ gt: 300, lte: 1000 }`. */
export type ScalarFilter = Partial<Record<Operator, unknown>>;

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
  return KINDS[kind].operators;
}

function createFilter(name: string, kind: ScalarKind, type: object): ClassType {
  @InputType(`${name}Filter`, {
    description: `Conditions on a ${name} field; all given conditions must hold`,
  })
  class Filter {}
  for (const operator of KINDS[kind].operators) {
    const field =
      operator === 'isNull' ? GraphQLBoolean : operator === 'in' || operator === 'nin' ? [type] : type;
    Field(() => field, { nullable: true, description: DESCRIPTIONS[operator] })(Filter.prototype, operator);
  }
  return Filter;
}

/** The operator input of each scalar kind (and each enum), created once: type-graphql's type names are global. */
const filters = new Map<string, ClassType>();

/** The filter input of a kind of field, or of an enum field's own enum. */
export function filterInputOf(field: Pick<ScalarFieldModel, 'kind' | 'enumType'>): ClassType {
  const name = field.enumType?.name ?? field.kind;
  let filter = filters.get(name);
  if (!filter) {
    filter = createFilter(name, field.kind, field.enumType?.values ?? KINDS[field.kind].graphql!);
    filters.set(name, filter);
  }
  return filter;
}

/** The GraphQL type of a field in create and update inputs. */
export const inputTypeOf = (field: Pick<ScalarFieldModel, 'kind' | 'enumType' | 'list'>) => {
  const type = field.enumType?.values ?? KINDS[field.kind].graphql!;
  return field.list ? [type] : type;
};
