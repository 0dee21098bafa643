import { type EntityMetadata, type MetadataStorage, ReferenceKind } from '@mikro-orm/core';
import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLID,
  GraphQLInt,
  type GraphQLScalarType,
  GraphQLString,
} from 'graphql';
import { DateTimeISOResolver } from 'graphql-scalars';
import { type ClassType, getMetadataStorage } from 'type-graphql';

/** The kinds of scalar the API can filter and sort on; each has its own operator input. */
export type ScalarKind = 'String' | 'Int' | 'Float' | 'Boolean' | 'DateTime';

export interface ScalarFieldModel {
  name: string;
  kind: ScalarKind;
  nullable: boolean;
  /** The database fills it in (a default or a generated key), so create inputs may omit it. */
  hasDefault: boolean;
  maxLength?: number;
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
  primaryKey: { name: string; kind: 'Int' | 'String'; generated: boolean };
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
  if (graphqlType === String || graphqlType === GraphQLString) return 'String';
  if (graphqlType === Boolean || graphqlType === GraphQLBoolean) return 'Boolean';
  if (graphqlType === GraphQLInt) return 'Int';
  if (graphqlType === Number || graphqlType === GraphQLFloat) return 'Float';
  if (graphqlType === DateTimeISOResolver) return 'DateTime';
  if (graphqlType === GraphQLID) return meta.properties[name]?.runtimeType === 'number' ? 'Int' : 'String';
  throw new Error(
    `${meta.className}.${name}: no filter is defined for GraphQL type ${(graphqlType as GraphQLScalarType).name}`,
  );
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
        kind: primary.runtimeType === 'number' ? 'Int' : 'String',
        generated: Boolean(primary.autoincrement),
      },
      scalars: exposed
        .filter((field) => meta.properties[field.name]?.kind === ReferenceKind.SCALAR)
        .map((field) => {
          const prop = meta.properties[field.name]!;
          return {
            name: field.name,
            kind: scalarKind(field.getType(), meta, field.name),
            nullable: Boolean(prop.nullable),
            hasDefault: prop.default !== undefined || Boolean(prop.autoincrement),
            maxLength: prop.runtimeType === 'string' ? prop.length : undefined,
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
