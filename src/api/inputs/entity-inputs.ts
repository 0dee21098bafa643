import { GraphQLID } from 'graphql';
import { type ClassType, Field, InputType, registerEnumType } from 'type-graphql';
import { type EntityModel, primaryKeyOf, toOneById } from '../entity-model.js';
import { KINDS } from '../column-types.js';
import { filterInputOf, inputTypeOf } from './scalar-filters.js';

export enum SortDirection {
  ASC = 'asc',
  DESC = 'desc',
}
registerEnumType(SortDirection, { name: 'SortDirection' });

export interface EntityInputs {
  where: ClassType;
  /** `{ some, every, none }` of this entity's where: how a to-many relation to it is filtered. */
  listFilter: ClassType;
  orderBy: ClassType;
  /** None when nothing of the entity can be written (only generated columns): no such mutation. */
  create?: ClassType;
  update?: ClassType;
}

type Decorate = (prototype: object, name: string) => void;

/** The names of an entity's input types: its own name with these suffixes. */
export const inputNames = (entity: string) =>
  (['Where', 'ListFilter', 'OrderBy', 'CreateInput', 'UpdateInput'] as const).map(
    (suffix) => `${entity}${suffix}`,
  );

function inputClass(name: string, description: string, fields: [string, Decorate][]): ClassType {
  @InputType(name, { description })
  class Input {}
  for (const [field, decorate] of fields) decorate(Input.prototype, field);
  return Input;
}

/**
 * Fields that can be filtered on: the scalars but lists, and each to-one relation's key as
 * `<relation>Id`; those whose kind sorts can be sorted on.
 */
function filterableFields(model: EntityModel) {
  return [
    ...model.scalars
      .filter((scalar) => !scalar.list)
      .map((scalar) =>
        model.key.length === 1 && scalar.name === model.primaryKey?.name
          ? { name: scalar.name, kind: model.primaryKey.kind }
          : scalar,
      ),
    ...toOneById(model).map((relation) => ({
      name: relation.idField,
      kind: primaryKeyOf(relation.target).kind,
    })),
  ];
}

/**
 * The input types of one entity (`CustomerWhere`, `CustomerOrderBy`, `CustomerCreateInput`,
 * `CustomerUpdateInput`), derived from its model; `stamped` are the global-filter attributes an
 * insert may omit.
 */
export function createEntityInputs(
  model: EntityModel,
  stamped: ReadonlySet<string>,
  inputsOf: (model: EntityModel) => EntityInputs,
): EntityInputs {
  const filterable = filterableFields(model);

  const where: ClassType = inputClass(
    `${model.name}Where`,
    `Conditions on ${model.name} rows; all given fields must match`,
    [
      ...filterable.map((field): [string, Decorate] => {
        // Created now: type-graphql collects input types before it resolves field types.
        const filter = filterInputOf(field);
        return [field.name, Field(() => filter, { nullable: true })];
      }),
      // A relation takes its target's conditions (to-one) or some/every/none of them (to-many); the
      // types are looked up when type-graphql builds the schema, once every entity has its inputs.
      ...model.toOne.map((relation): [string, Decorate] => [
        relation.name,
        Field(() => inputsOf(relation.target).where, {
          nullable: true,
          description: `The related ${relation.target.name} is one the caller may read and matches`,
        }),
      ]),
      ...model.toMany.map((relation): [string, Decorate] => [
        relation.name,
        Field(() => inputsOf(relation.target).listFilter, { nullable: true }),
      ]),
      ['AND', Field(() => [where], { nullable: true, description: 'all of these match' })],
      ['OR', Field(() => [where], { nullable: true, description: 'at least one of these matches' })],
      ['NOT', Field(() => where, { nullable: true, description: 'this does not match' })],
    ],
  );

  const listFilter = inputClass(
    `${model.name}ListFilter`,
    `Conditions on related ${model.name} rows; only rows the caller may read count`,
    [
      ['some', Field(() => where, { nullable: true, description: 'at least one related row matches' })],
      [
        'every',
        Field(() => where, { nullable: true, description: 'every related row matches (true of none)' }),
      ],
      ['none', Field(() => where, { nullable: true, description: 'no related row matches' })],
    ],
  );

  const orderBy = inputClass(
    `${model.name}OrderBy`,
    `One sort key for ${model.name} rows: set exactly one field`,
    filterable
      .filter(({ kind }) => KINDS[kind].sortable)
      .map(({ name }): [string, Decorate] => [name, Field(() => SortDirection, { nullable: true })]),
  );

  // A view is read only: no column of it is written through the API.
  const writable = model.readOnly
    ? []
    : model.scalars.filter(
        (scalar) =>
          !scalar.readOnly && (scalar.name !== model.primaryKey?.name || !model.primaryKey.generated),
      );
  const writableRelations = model.readOnly ? [] : toOneById(model);
  /** A row's key is given when it is created and stays: update inputs leave its columns out. */
  const inKey = (name: string) => model.key.some((part) => part.name === name);
  const singleKey = model.key.length === 1 ? model.primaryKey?.name : undefined;
  const createFields: [string, Decorate][] = [
    ...writable.map((scalar): [string, Decorate] => [
      scalar.name,
      Field(() => (scalar.name === singleKey ? GraphQLID : inputTypeOf(scalar)), {
        // A global filter's attribute left out is stamped with the user's own value.
        nullable: scalar.nullable || scalar.hasDefault || stamped.has(scalar.name),
      }),
    ]),
    ...writableRelations.map((relation): [string, Decorate] => [
      relation.idField,
      Field(() => GraphQLID, { nullable: relation.nullable }),
    ]),
  ];
  const updateFields: [string, Decorate][] = [
    ...writable
      .filter((scalar) => !inKey(scalar.name))
      .map((scalar): [string, Decorate] => [
        scalar.name,
        Field(() => inputTypeOf(scalar), { nullable: true }),
      ]),
    ...writableRelations
      .filter((relation) => !inKey(relation.name))
      .map((relation): [string, Decorate] => [relation.idField, Field(() => GraphQLID, { nullable: true })]),
  ];
  // GraphQL has no input type without fields: an entity with nothing to write has no such mutation.
  const create =
    createFields.length > 0
      ? inputClass(`${model.name}CreateInput`, `The fields of a new ${model.name}`, createFields)
      : undefined;
  const update =
    updateFields.length > 0
      ? inputClass(
          `${model.name}UpdateInput`,
          `Changes to one ${model.name}; omitted fields keep their value`,
          updateFields,
        )
      : undefined;

  return { where, listFilter, orderBy, create, update };
}
