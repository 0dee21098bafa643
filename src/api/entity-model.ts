import { type EntityMetadata, type MetadataStorage, ReferenceKind } from '@mikro-orm/core';
import { type EntityProperty } from '@mikro-orm/core';
import { GraphQLID, type GraphQLScalarType } from 'graphql';
import { type ClassType, getMetadataStorage } from 'type-graphql';
import { type ColumnFacts, kindOfGraphQLType, type ScalarKind } from './column-types.js';

export type { ScalarKind };

export interface ScalarFieldModel {
  name: string;
  kind: ScalarKind;
  nullable: boolean;
  /** The database fills it in (a default or a generated key), so create inputs may omit it. */
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

export interface ToOneModel {
  name: string;
  /** The input and filter field that carries the foreign key: `customer` → `customerId`. */
  idField: string;
  target: EntityModel;
  nullable: boolean;
}

export interface ToManyModel {
  name: string;
  target: EntityModel;
  /** The to-one property on the target that points back here: `Customer.orders` → `Order.customer`. */
  mappedBy: string;
}

/**
 * What the generic API needs to know of one entity, derived from MikroORM's metadata (columns,
 * relations) and type-graphql's (which columns are GraphQL fields). Nothing here is written per entity.
 */
export interface EntityModel {
  cls: new () => object;
  name: string;
  /** `customer`, `orderDetail`: the by-id query and the suffix of mutations. */
  singular: string;
  /** `customers`, `orderDetails`: the list query. */
  plural: string;
  primaryKey: { name: string; kind: 'Int' | 'String' | 'BigInt'; generated: boolean };
  scalars: ScalarFieldModel[];
  toOne: ToOneModel[];
  toMany: ToManyModel[];
}

export function pluralize(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

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
    const primary = meta.getPrimaryProps()[0]!;
    const exposed = graphqlFields.filter((field) => field.target === cls);
    models.set(cls, {
      cls,
      name: meta.className,
      singular: lowerFirst(meta.className),
      plural: pluralize(lowerFirst(meta.className)),
      primaryKey: {
        name: primary.name,
        kind: primaryKeyKind(primary),
        generated: Boolean(primary.autoincrement),
      },
      scalars: exposed
        .filter((field) => meta.properties[field.name]?.kind === ReferenceKind.SCALAR)
        .map((field) => {
          const prop = meta.properties[field.name]!;
          const type = field.getType();
          const enumType = enumOf(type);
          return {
            name: field.name,
            kind: scalarKind(type, meta, field.name),
            nullable: Boolean(prop.nullable),
            hasDefault:
              prop.default !== undefined ||
              prop.defaultRaw !== undefined ||
              Boolean(prop.autoincrement) ||
              Boolean(prop.generated),
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
  for (const [cls, model] of models) {
    for (const prop of metadata.get(cls).props) {
      const target = models.get(prop.targetMeta?.class as ClassType);
      if (!target) continue;
      if (prop.kind === ReferenceKind.MANY_TO_ONE) {
        model.toOne.push({
          name: prop.name,
          idField: `${prop.name}Id`,
          target,
          nullable: Boolean(prop.nullable),
        });
      } else if (prop.kind === ReferenceKind.ONE_TO_MANY) {
        model.toMany.push({ name: prop.name, target, mappedBy: prop.mappedBy });
      }
    }
  }
  return [...models.values()];
}
