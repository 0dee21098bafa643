import { GraphQLFloat, GraphQLID, GraphQLInt } from 'graphql';
import { type ClassType, Field, InputType, ObjectType, registerEnumType } from 'type-graphql';
import {
  AGGREGATE_FUNCTIONS,
  type AggregateFunction,
  comparableFields,
  kindOf,
  numericFields,
} from '../aggregates.js';
import { DecimalScalar, KINDS } from '../column-types.js';
import { type EntityModel, toOneById } from '../entity-model.js';
import { type EntityInputs, SortDirection } from './entity-inputs.js';
import { filterInputOf, inputTypeOf } from './scalar-filters.js';

/** The GraphQL types of an entity's aggregates and groups (SPEC §11); absent parts where no field fits. */
export interface AggregateTypes {
  aggregate: ClassType;
  /** None where no field can be grouped by (a view of JSON columns): no group-by field. */
  group?: {
    group: ClassType;
    field: object;
    having: ClassType;
    orderBy: ClassType;
  };
}

/** A type name free of the entity names (`UserGroup` may be an entity beside `User`), and kept. */
export type TypeName = (wanted: string) => string;

type Decorate = (prototype: object, name: string) => void;

function typeClass(
  kind: 'object' | 'input',
  name: string,
  description: string,
  fields: [string, Decorate][],
): ClassType {
  if (kind === 'object') {
    @ObjectType(name, { description })
    class Output {}
    for (const [field, decorate] of fields) decorate(Output.prototype, field);
    return Output;
  }
  @InputType(name, { description })
  class Input {}
  for (const [field, decorate] of fields) decorate(Input.prototype, field);
  return Input;
}

/**
 * The fields a group is keyed by: those that sort (as in orderBy), and each to-one relation's id —
 * which, like in orderBy, reads as null where the related row is hidden.
 */
export function groupableFields(model: EntityModel): { name: string; type: () => unknown }[] {
  const singleKey = model.key.length === 1 ? model.primaryKey?.name : undefined;
  return [
    ...model.scalars
      .filter((field) => !field.list && KINDS[field.kind].sortable)
      .map((field) => ({
        name: field.name,
        type: () => (field.name === singleKey ? GraphQLID : inputTypeOf(field)),
      })),
    ...toOneById(model).map((relation) => ({ name: relation.idField, type: () => GraphQLID })),
  ];
}

/**
 * The aggregate types of `model`: `<E>Aggregate { count sum avg min max }` and, for group-by,
 * `<E>Group`, the enum `<E>Field`, `<E>AggregateWhere` (having) and `<E>GroupOrderBy`.
 */
export function createAggregateTypes(
  model: EntityModel,
  inputs: EntityInputs,
  typeName: TypeName,
): AggregateTypes {
  const { name } = model;
  const numeric = numericFields(model);
  const comparable = comparableFields(model);
  const valuesOf = {
    numeric:
      numeric.length > 0
        ? typeClass(
            'object',
            typeName(`${name}NumericFields`),
            `Sums or averages of ${name} fields over the rows the caller may read (null over none)`,
            numeric.map((field) => [
              field.name,
              Field(() => (field.kind === 'Float' ? GraphQLFloat : DecimalScalar), { nullable: true }),
            ]),
          )
        : undefined,
    comparable:
      comparable.length > 0
        ? typeClass(
            'object',
            typeName(`${name}ComparableFields`),
            `Least or greatest values of ${name} fields over the rows the caller may read (null over none)`,
            comparable.map((field) => [field.name, Field(() => inputTypeOf(field), { nullable: true })]),
          )
        : undefined,
  };
  const typeOf = (fn: AggregateFunction) => valuesOf[kindOf(fn)];
  const aggregateFields = (): [string, Decorate][] => [
    ['count', Field(() => GraphQLInt, { description: 'How many rows' })],
    ...AGGREGATE_FUNCTIONS.filter((fn) => typeOf(fn)).map((fn): [string, Decorate] => [
      fn,
      Field(() => typeOf(fn)!, { nullable: true }),
    ]),
  ];
  const aggregate = typeClass(
    'object',
    typeName(`${name}Aggregate`),
    `Aggregates over the ${name} rows the caller may read that match where`,
    aggregateFields(),
  );

  const groupable = groupableFields(model);
  if (groupable.length === 0) return { aggregate };
  const field = Object.fromEntries(groupable.map(({ name: each }) => [each, each]));
  registerEnumType(field, { name: typeName(`${name}Field`), description: `A field of ${name} to group by` });
  const key = typeClass(
    'object',
    typeName(`${name}GroupKey`),
    `The values a ${name} group shares: the fields it is grouped by`,
    groupable.map(({ name: each, type }) => [each, Field(type as () => ClassType, { nullable: true })]),
  );
  const group = typeClass('object', typeName(`${name}Group`), `${name} rows sharing the values of by`, [
    ['key', Field(() => key)],
    ...aggregateFields(),
  ]);

  /** `{ freight: <filter> }` or `{ freight: ASC }` per field of the numeric or comparable kind. */
  const perField = (
    kind: 'numeric' | 'comparable',
    suffix: string,
    description: string,
    fieldType: (field: (typeof numeric)[number]) => () => unknown,
  ) => {
    const fields = kind === 'numeric' ? numeric : comparable;
    return fields.length > 0
      ? typeClass(
          'input',
          typeName(`${name}${kind === 'numeric' ? 'Numeric' : 'Comparable'}${suffix}`),
          description,
          fields.map((each) => [each.name, Field(fieldType(each) as () => ClassType, { nullable: true })]),
        )
      : undefined;
  };
  const filters = {
    numeric: perField('numeric', 'Filters', `Conditions on sums or averages of ${name} fields`, (each) => {
      const filter = filterInputOf({ kind: each.kind === 'Float' ? 'Float' : 'Decimal' });
      return () => filter;
    }),
    comparable: perField(
      'comparable',
      'Filters',
      `Conditions on least or greatest ${name} values`,
      (each) => {
        const filter = filterInputOf(each);
        return () => filter;
      },
    ),
  };
  const sorts = {
    numeric: perField(
      'numeric',
      'OrderBy',
      'Sort by one of these (set exactly one)',
      () => () => SortDirection,
    ),
    comparable: perField(
      'comparable',
      'OrderBy',
      'Sort by one of these (set exactly one)',
      () => () => SortDirection,
    ),
  };
  const inputOf = (table: typeof filters, fn: AggregateFunction) => table[kindOf(fn)];
  const countFilter = filterInputOf({ kind: 'Int' });
  const having: ClassType = typeClass(
    'input',
    typeName(`${name}AggregateWhere`),
    `Conditions on the aggregates of a ${name} group; all given must hold`,
    [
      ['count', Field(() => countFilter, { nullable: true })],
      ...AGGREGATE_FUNCTIONS.filter((fn) => inputOf(filters, fn)).map((fn): [string, Decorate] => [
        fn,
        Field(() => inputOf(filters, fn)!, { nullable: true }),
      ]),
      ['AND', Field(() => [having], { nullable: true, description: 'all of these match' })],
      ['OR', Field(() => [having], { nullable: true, description: 'at least one of these matches' })],
      ['NOT', Field(() => having, { nullable: true, description: 'this does not match' })],
    ],
  );
  const orderBy = typeClass(
    'input',
    typeName(`${name}GroupOrderBy`),
    `One sort key for ${name} groups: set exactly one (a key field must be among by)`,
    [
      ['count', Field(() => SortDirection, { nullable: true })],
      ['key', Field(() => inputs.orderBy, { nullable: true })],
      ...AGGREGATE_FUNCTIONS.filter((fn) => inputOf(sorts, fn)).map((fn): [string, Decorate] => [
        fn,
        Field(() => inputOf(sorts, fn)!, { nullable: true }),
      ]),
    ],
  );
  return { aggregate, group: { group, field, having, orderBy } };
}
