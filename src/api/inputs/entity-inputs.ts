import { GraphQLID } from 'graphql';
import { type ClassType, Field, InputType, registerEnumType } from 'type-graphql';
import { type EntityModel } from '../entity-model.js';
import { scalarFilterInputs, scalarTypeOf } from './scalar-filters.js';

export enum SortDirection {
  ASC = 'asc',
  DESC = 'desc',
}
registerEnumType(SortDirection, { name: 'SortDirection' });

export interface EntityInputs {
  where: ClassType;
  orderBy: ClassType;
  create: ClassType;
  update: ClassType;
}

type Decorate = (prototype: object, name: string) => void;

function inputClass(name: string, description: string, fields: [string, Decorate][]): ClassType {
  @InputType(name, { description })
  class Input {}
  for (const [field, decorate] of fields) decorate(Input.prototype, field);
  return Input;
}

/** Fields that can be filtered and sorted on: the scalars, and each to-one relation's key as `<relation>Id`. */
function filterableFields(model: EntityModel) {
  return [
    ...model.scalars.map((scalar) => ({
      name: scalar.name,
      kind:
        model.key.length === 1 && scalar.name === model.primaryKey.name ? model.primaryKey.kind : scalar.kind,
    })),
    ...model.toOne.map((relation) => ({ name: relation.idField, kind: relation.target.primaryKey.kind })),
  ];
}

/**
 * The input types of one entity (`CustomerWhere`, `CustomerOrderBy`, `CustomerCreateInput`,
 * `CustomerUpdateInput`), derived from its model; `stamped` are the global-filter attributes an
 * insert may omit.
 */
export function createEntityInputs(
  model: EntityModel,
  stamped: ReadonlySet<string> = new Set(),
): EntityInputs {
  const filterable = filterableFields(model);

  const where: ClassType = inputClass(
    `${model.name}Where`,
    `Conditions on ${model.name} rows; all given fields must match`,
    [
      ...filterable.map(({ name, kind }): [string, Decorate] => [
        name,
        Field(() => scalarFilterInputs[kind], { nullable: true }),
      ]),
      ['AND', Field(() => [where], { nullable: true, description: 'all of these match' })],
      ['OR', Field(() => [where], { nullable: true, description: 'at least one of these matches' })],
      ['NOT', Field(() => where, { nullable: true, description: 'this does not match' })],
    ],
  );

  const orderBy = inputClass(
    `${model.name}OrderBy`,
    `One sort key for ${model.name} rows: set exactly one field`,
    filterable.map(({ name }): [string, Decorate] => [name, Field(() => SortDirection, { nullable: true })]),
  );

  const writable = model.scalars.filter(
    (scalar) => scalar.name !== model.primaryKey.name || !model.primaryKey.generated,
  );
  /** A row's key is given when it is created and stays: update inputs leave its columns out. */
  const inKey = (name: string) => model.key.some((part) => part.name === name);
  const singleKey = model.key.length === 1 ? model.primaryKey.name : undefined;
  const create = inputClass(`${model.name}CreateInput`, `The fields of a new ${model.name}`, [
    ...writable.map((scalar): [string, Decorate] => [
      scalar.name,
      Field(() => (scalar.name === singleKey ? GraphQLID : scalarTypeOf(scalar.kind)), {
        // A global filter's attribute left out is stamped with the user's own value.
        nullable: scalar.nullable || scalar.hasDefault || stamped.has(scalar.name),
      }),
    ]),
    ...model.toOne.map((relation): [string, Decorate] => [
      relation.idField,
      Field(() => GraphQLID, { nullable: relation.nullable }),
    ]),
  ]);

  const update = inputClass(
    `${model.name}UpdateInput`,
    `Changes to one ${model.name}; omitted fields keep their value`,
    [
      ...writable
        .filter((scalar) => !inKey(scalar.name))
        .map((scalar): [string, Decorate] => [
          scalar.name,
          Field(() => scalarTypeOf(scalar.kind), { nullable: true }),
        ]),
      ...model.toOne
        .filter((relation) => !inKey(relation.name))
        .map((relation): [string, Decorate] => [
          relation.idField,
          Field(() => GraphQLID, { nullable: true }),
        ]),
    ],
  );

  return { where, orderBy, create, update };
}
