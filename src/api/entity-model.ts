import {
  type EntityMetadata,
  type EntityProperty,
  type MetadataStorage,
  ReferenceKind,
} from '@mikro-orm/core';
import { GraphQLID, type GraphQLScalarType } from 'graphql';
import { isView } from '../../security/system/secured-entity.js';
import { type ClassType, getMetadataStorage } from 'type-graphql';
import { type ColumnReference, columnReferencesOf } from '../model/relations.js';
import { isWritableView } from '../model/views.js';
import { type ColumnFacts, kindOfGraphQLType, type ScalarKind } from './column-types.js';

export type { ScalarKind };

export interface ScalarFieldModel {
  name: string;
  /** The table's column: `unit_price`, or an imported table's `"Name.Prefix"` as it is named. */
  columnName: string;
  kind: ScalarKind;
  nullable: boolean;
  /** The database fills it in (a default, a generated key, a trigger), so create inputs may omit it. */
  hasDefault: boolean;
  maxLength?: number;
  /** An array column: a GraphQL list. */
  list: boolean;
  /** A generated or identity column: read, never written through the API. */
  readOnly: boolean;
  /** The GraphQL enum of an enum column (the object registered with type-graphql) and its name. */
  enumType?: { values: object; name: string };
  column: ColumnFacts;
}

/** The to-one relations written and filtered by an id field (all but the references by columns). */
export const toOneById = (model: EntityModel) =>
  model.toOne.filter(
    (relation): relation is ToOneModel & { idField: string } => relation.idField !== undefined,
  );

/** A column of one entity and the column of another it equals: their properties. */
export type ColumnPair = readonly [string, string];

export interface ToOneModel {
  name: string;
  /**
   * The input and filter field that carries the foreign key: `customer` → `customerId`. None for a
   * reference by columns, whose columns are written and filtered as the scalar fields they are.
   */
  idField?: string;
  /** The foreign key's column, with `idField` (a reference by columns has none of its own). */
  column?: string;
  target: EntityModel;
  nullable: boolean;
  /**
   * A reference by columns (src/model/relations.ts `ReferencesByColumns`): each of this entity's
   * scalar properties with the target's property it equals.
   */
  byColumns?: readonly ColumnPair[];
}

export interface ToManyModel {
  name: string;
  target: EntityModel;
  /**
   * The to-one property on the target that points back here: `Customer.orders` → `Order.customer`.
   * Through a join table: the join table's property that points here (`PlaylistTrack.playlist`).
   */
  mappedBy: string;
  /**
   * Set when the rows are reached through a join table (`Playlist.tracks` through `PlaylistTrack`):
   * the join table and its to-one property that points at the target (`track`).
   */
  through?: { pivot: EntityModel; toTarget: string };
  /**
   * The inverse of a reference by columns (`mappedBy` names it): each of this entity's properties
   * with the target's property that equals it.
   */
  byColumns?: readonly ColumnPair[];
  /**
   * The field that counts the related rows (`ordersCount(where:)`), where no other field of the
   * parent has that name.
   */
  countField?: string;
  /** The field of aggregates over the related rows (`ordersAggregate(where:)`), likewise. */
  aggregateField?: string;
  /** The related rows as a Relay connection (`ordersConnection(first:, after:, …)`), likewise. */
  connectionField?: string;
}

/**
 * One column of a row's key, as the by-key query and the update and delete mutations take it: a
 * single key is the argument `id: ID!`; each column of a composite key is an argument of its own,
 * named like the field that carries it (`skill: String!`, or `staffId: ID!` for a key column that is
 * also a to-one relation).
 */
export interface KeyPartModel {
  /** The entity property: `skill`, `staff`. */
  name: string;
  /** Its column. */
  column: string;
  /** The GraphQL argument: `id` for a single key, else `skill`, `staffId`. */
  argument: string;
  kind: ScalarKind;
  /** Set when the key column is also a to-one relation: its value is the related row's id. */
  relation?: ToOneModel;
  /** The enum of an enum key column. */
  enumType?: ScalarFieldModel['enumType'];
}

export interface PrimaryKeyModel {
  name: string;
  kind: 'Int' | 'String' | 'BigInt';
  generated: boolean;
}

/** The key of an entity that has one: every entity but a keyless view, which nothing asks this of. */
export function primaryKeyOf(model: EntityModel): PrimaryKeyModel {
  if (!model.primaryKey) throw new Error(`${model.name} has no key`);
  return model.primaryKey;
}

/**
 * What the generic API needs to know of one entity, derived from MikroORM's metadata (columns,
 * relations) and type-graphql's (which columns are GraphQL fields). Nothing here is written per entity.
 */
export interface EntityModel {
  cls: new () => object;
  name: string;
  /** Its table (or view), as a statement names it. */
  table: { schema?: string; tableName: string };
  /** Each property's column (the first, for a reference by several): how statements reach it. */
  columns: ReadonlyMap<string, string>;
  /** `customer`, `orderDetail`: the by-id query and the suffix of mutations. */
  singular: string;
  /**
   * `customers`, `orderDetails`: the list query (and `<plural>Count`). When the plural is also an
   * entity's by-key field (`staff`, or `people` beside an entity `People`), it is `<singular>List`.
   */
  plural: string;
  /**
   * The key column of a single-column key; for a composite key, its first column. Absent only for a
   * view without a key (`readOnly`): listed and counted, never fetched by key nor related to.
   */
  primaryKey?: PrimaryKeyModel;
  /** Every column of the key, in the table's order: one for a single key (`id`), none for a keyless view. */
  key: KeyPartModel[];
  /** A view not declared writable: read, never written (no create, update or delete field). */
  readOnly: boolean;
  scalars: ScalarFieldModel[];
  toOne: ToOneModel[];
  toMany: ToManyModel[];
}

/** English words whose plural is the word itself, as table names hold them. */
const UNCOUNTABLE = new Set([
  'staff',
  'personnel',
  'equipment',
  'information',
  'data',
  'metadata',
  'news',
  'series',
  'species',
  'sheep',
  'fish',
  'deer',
  'feedback',
  'software',
  'hardware',
  'media',
  'music',
  'furniture',
  'luggage',
  'baggage',
  'money',
  'rice',
  'advice',
  'evidence',
  'research',
  'aircraft',
  'offspring',
]);
const IRREGULAR: Record<string, string> = {
  person: 'people',
  child: 'children',
  man: 'men',
  woman: 'women',
  mouse: 'mice',
  goose: 'geese',
  tooth: 'teeth',
  foot: 'feet',
  ox: 'oxen',
  leaf: 'leaves',
  life: 'lives',
  knife: 'knives',
  wife: 'wives',
  half: 'halves',
  shelf: 'shelves',
  analysis: 'analyses',
  axis: 'axes',
  crisis: 'crises',
  index: 'indices',
  matrix: 'matrices',
  vertex: 'vertices',
  criterion: 'criteria',
  phenomenon: 'phenomena',
  quiz: 'quizzes',
};

/** The plural of a camelCase name: its last word made plural (`orderDetail` → `orderDetails`, `salesPerson` → `salesPeople`). */
export function pluralize(word: string): string {
  const [, head = '', last = word] = /^(.*?)([A-Z]?[a-z0-9]*)$/.exec(word) ?? [];
  const lower = last.toLowerCase();
  const keepCase = (plural: string) =>
    last === lower ? plural : plural.charAt(0).toUpperCase() + plural.slice(1);
  if (UNCOUNTABLE.has(lower)) return word;
  if (IRREGULAR[lower]) return head + keepCase(IRREGULAR[lower]);
  // Names of sciences and of data about things are plural already (`demographics`, `statistics`).
  if (/ics$/.test(lower)) return word;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

/**
 * The list field of each entity, distinct from every by-key field and from every other list field:
 * the plural, or `<singular>List` where the plural is some entity's by-key field (`staff` is both;
 * `people` is Person's plural and People's singular), or `all<Plural>` where that is taken too (Pagila's
 * `staff` table lists as `allStaff` beside its `staff_list` view, whose by-key field is `staffList`).
 * Root fields that still coincide stop the schema with their names, never silently shadowing one
 * another.
 */
function settleFieldNames(models: EntityModel[]) {
  const taken = new Set(models.map((model) => model.singular));
  for (const model of models) {
    const candidates = [model.plural, `${model.singular}List`, `all${upperFirst(model.plural)}`];
    model.plural = candidates.find((name) => !taken.has(name) && !taken.has(`${name}Count`)) ?? model.plural;
    taken.add(model.plural).add(`${model.plural}Count`);
  }
  const owners = new Map<string, string>();
  for (const model of models) {
    for (const field of [model.singular, model.plural, `${model.plural}Count`]) {
      const other = owners.get(field);
      if (other !== undefined)
        throw new Error(
          `GraphQL field ${field} would serve both ${other} and ${model.name}: rename one of the classes`,
        );
      owners.set(field, model.name);
    }
  }
}

/** `OrderDetail` → `orderDetail`: a class name as a field name. */
export const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);
/** `reportsTo` → `ReportsTo`: a field name inside a longer one (`employeesByReportsTo`). */
export const upperFirst = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

function scalarKind(graphqlType: unknown, meta: EntityMetadata, name: string): ScalarKind {
  const kind = kindOfGraphQLType(graphqlType);
  if (kind) return kind;
  if (enumOf(graphqlType)) return 'Enum';
  if (graphqlType === GraphQLID) return primaryKeyKind(meta.properties[name]!);
  throw new Error(
    `${meta.className}.${name}: no filter is defined for GraphQL type ${(graphqlType as GraphQLScalarType).name}`,
  );
}

const enumOf = (graphqlType: unknown) => getMetadataStorage().enums.find((e) => e.enumObj === graphqlType);

function primaryKeyKind(prop: EntityProperty): 'Int' | 'String' | 'BigInt' {
  if (prop.runtimeType === 'number') return 'Int';
  return /^(int8|bigint|bigserial)/.test(prop.columnTypes?.[0] ?? String(prop.type)) ? 'BigInt' : 'String';
}

/** The PostgreSQL type of a column (of its elements, for an array) and its size, as the entity declares it. */
function columnFacts(prop: EntityProperty): ColumnFacts {
  const declared = (prop.columnTypes?.[0] ?? String(prop.type)).toLowerCase().replace(/\[\]$/, '');
  const type =
    { smallint: 'int2', integer: 'int4', int: 'int4', real: 'float4', decimal: 'numeric' }[
      declared.replace(/\(.*$/, '')
    ] ?? declared.replace(/\(.*$/, '');
  return {
    type,
    precision: prop.precision ?? undefined,
    scale: prop.scale ?? undefined,
    maxLength: prop.runtimeType === 'string' && type === 'varchar' ? prop.length : undefined,
  };
}

/** Builds the models of all entities, resolving relations between them. */
export function buildEntityModels(
  metadata: MetadataStorage,
  classes: readonly (new () => object)[],
): EntityModel[] {
  const graphqlFields = getMetadataStorage().fields;
  const models = new Map<ClassType, EntityModel>();
  for (const cls of classes) {
    const meta = metadata.get(cls);
    const primary = meta.getPrimaryProps()[0];
    const composite = meta.getPrimaryProps().length > 1;
    const exposed = graphqlFields.filter((field) => field.target === cls);
    models.set(cls, {
      cls,
      name: meta.className,
      table: { schema: meta.schema, tableName: meta.tableName },
      columns: new Map(
        meta.props.filter((prop) => prop.fieldNames?.length).map((prop) => [prop.name, prop.fieldNames[0]!]),
      ),
      singular: lowerFirst(meta.className),
      plural: pluralize(lowerFirst(meta.className)),
      primaryKey: primary && {
        name: primary.name,
        kind: primaryKeyKind(primary),
        generated: !composite && Boolean(primary.autoincrement),
      },
      key: [],
      readOnly: isView(meta) && !isWritableView(cls),
      scalars: exposed
        .filter((field) => meta.properties[field.name]?.kind === ReferenceKind.SCALAR)
        .map((field) => {
          const prop = meta.properties[field.name]!;
          const type = field.getType();
          const enumType = enumOf(type);
          return {
            name: field.name,
            columnName: prop.fieldNames[0]!,
            kind: scalarKind(type, meta, field.name),
            nullable: Boolean(prop.nullable),
            hasDefault:
              prop.default !== undefined ||
              prop.defaultRaw !== undefined ||
              Boolean(prop.autoincrement) ||
              Boolean(prop.generated) ||
              // A column a trigger fills (src/model/columns.ts `filledByTrigger`).
              Boolean(prop.onCreate),
            maxLength: prop.runtimeType === 'string' ? prop.length : undefined,
            list: Boolean(field.typeOptions.array),
            readOnly: Boolean(prop.generated) && !prop.primary,
            ...(enumType ? { enumType: { values: enumType.enumObj, name: enumType.name } } : {}),
            column: columnFacts(prop),
          };
        }),
      toOne: [],
      toMany: [],
    });
  }
  /**
   * Relations are served by one key column: one whose foreign key has several columns, or that points
   * at a composite key, is not a field (an imported table has its columns as scalars instead).
   */
  const singleColumn = (prop: EntityProperty, target: EntityModel) =>
    prop.fieldNames.length === 1 && metadata.get(target.cls).getPrimaryProps().length === 1;
  for (const [cls, model] of models) {
    for (const prop of metadata.get(cls).props) {
      const target = models.get(prop.targetMeta?.class as ClassType);
      if (!target) continue;
      if (prop.kind === ReferenceKind.MANY_TO_ONE && singleColumn(prop, target)) {
        model.toOne.push({
          name: prop.name,
          idField: `${prop.name}Id`,
          column: prop.fieldNames[0]!,
          target,
          nullable: Boolean(prop.nullable),
        });
      } else if (
        prop.kind === ReferenceKind.ONE_TO_MANY &&
        singleColumn(metadata.get(target.cls).properties[prop.mappedBy]!, model)
      ) {
        model.toMany.push({ name: prop.name, target, mappedBy: prop.mappedBy });
      }
    }
  }
  for (const [cls, model] of models) addColumnReferences(model, columnReferencesOf(cls), models, metadata);
  for (const [cls, model] of models) {
    const parts = metadata.get(cls).getPrimaryProps();
    model.key = parts.map((prop) => {
      const relation = toOneById(model).find((toOne) => toOne.name === prop.name);
      const column = prop.fieldNames[0]!;
      if (parts.length === 1)
        return { name: prop.name, column, argument: 'id', kind: primaryKeyOf(model).kind };
      if (relation)
        return {
          name: prop.name,
          column,
          argument: relation.idField,
          kind: primaryKeyOf(relation.target).kind,
          relation,
        };
      const scalar = model.scalars.find((field) => field.name === prop.name);
      if (!scalar)
        throw new Error(
          `${model.name}.${prop.name}: a key column must be a GraphQL field or a to-one relation`,
        );
      return {
        name: prop.name,
        column,
        argument: prop.name,
        kind: scalar.kind,
        ...(scalar.enumType ? { enumType: scalar.enumType } : {}),
      };
    });
  }
  for (const pivot of models.values()) addThroughRelations(pivot);
  for (const model of models.values()) nameRelationFields(model);
  settleFieldNames([...models.values()]);
  return [...models.values()];
}

/** The names of the model's fields so far: its scalars and its relations, with their id fields. */
const fieldNamesOf = (model: EntityModel) => [
  ...model.scalars.map((field) => field.name),
  ...model.toOne.flatMap((relation) => [relation.name, ...(relation.idField ? [relation.idField] : [])]),
  ...model.toMany.map((relation) => relation.name),
];

/**
 * The to-one fields of `model`'s references by columns and their targets' inverse to-many fields.
 * Each column, on both sides, must be a field of its entity — a scalar or a to-one relation whose
 * column it is — since its values are what relate the rows, and who may read them decides who may
 * follow the reference; the names must be free.
 */
function addColumnReferences(
  model: EntityModel,
  references: readonly ColumnReference[],
  models: ReadonlyMap<ClassType, EntityModel>,
  metadata: MetadataStorage,
) {
  for (const reference of references) {
    const where = `${model.name}.${reference.name}`;
    const target = models.get(reference.target() as ClassType);
    if (!target) throw new Error(`${where}: its target is not an entity the gateway serves`);
    const pairs = Object.entries(reference.columns);
    if (pairs.length === 0) throw new Error(`${where}: a reference names its columns`);
    const columnOf = (owner: EntityModel, name: string): EntityProperty => {
      const prop = metadata.get(owner.cls).properties[name as never] as EntityProperty | undefined;
      const served =
        owner.scalars.some((field) => field.name === name) ||
        toOneById(owner).some((relation) => relation.name === name);
      if (!prop || !served || prop.fieldNames.length !== 1)
        throw new Error(`${where}: ${owner.name}.${name} is not a field of one column`);
      return prop;
    };
    const nullable = pairs.some(([own, theirs]) => (columnOf(target, theirs), columnOf(model, own).nullable));
    for (const [owner, name] of [
      [model, reference.name],
      [target, reference.inverse],
    ] as const) {
      if (fieldNamesOf(owner).includes(name))
        throw new Error(`${where}: ${owner.name} has a field ${name} already`);
    }
    model.toOne.push({ name: reference.name, target, nullable: Boolean(nullable), byColumns: pairs });
    target.toMany.push({
      name: reference.inverse,
      target: model,
      mappedBy: reference.name,
      byColumns: pairs.map(([own, theirs]) => [theirs, own] as const),
    });
  }
}

/**
 * Gives each to-many relation its count, aggregate and connection fields (`<relation>Count`,
 * `<relation>Aggregate`, `<relation>Connection`), each unless its name is taken.
 */
function nameRelationFields(model: EntityModel) {
  const taken = new Set([...model.scalars.map((field) => field.name), ...fieldNamesOf(model)]);
  const free = (name: string) => {
    if (taken.has(name)) return undefined;
    taken.add(name);
    return name;
  };
  for (const relation of model.toMany) {
    relation.countField = free(`${relation.name}Count`);
    relation.aggregateField = free(`${relation.name}Aggregate`);
    relation.connectionField = free(`${relation.name}Connection`);
  }
}

/**
 * A join table — a key of two to-one relations (`playlist_track`: playlist, track) — gives each side
 * a to-many field through it (`playlist.tracks`, `track.playlists`), besides being an entity itself,
 * as PostGraphile's many-to-many relations do. The field is named after the other side in the plural,
 * and after the relation too where that name is taken or both sides are one entity
 * (`peopleByFollowed`); a name that is still taken gets no field rather than shadowing one.
 */
function addThroughRelations(pivot: EntityModel) {
  if (pivot.key.length !== 2 || !pivot.key.every((part) => part.relation)) return;
  const [first, second] = pivot.key.map((part) => part.relation!) as [ToOneModel, ToOneModel];
  for (const [from, to] of [
    [first, second],
    [second, first],
  ] as const) {
    const owner = from.target;
    const taken = new Set(fieldNamesOf(owner));
    const plural = pluralize(lowerFirst(to.target.name));
    const name = [plural, `${plural}By${upperFirst(to.name)}`].find(
      (candidate, index) => !taken.has(candidate) && (index > 0 || owner !== to.target),
    );
    if (name)
      owner.toMany.push({
        name,
        target: to.target,
        mappedBy: from.name,
        through: { pivot, toTarget: to.name },
      });
  }
}
