import { type PropertyOptions } from '@mikro-orm/core';
import { PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { DateTimeISOResolver } from 'graphql-scalars';
import { Authorized, Field, Float, ID, Int } from 'type-graphql';

/**
 * Column decorators that declare a database column and its GraphQL field together, so a column's
 * nullability, type and exposure cannot drift apart between MikroORM and the schema.
 * A property without one of these (or without `@Field`) is not part of the API: that is how secrets stay out.
 * Types are always explicit, so nothing depends on emitted decorator metadata.
 */
interface ColumnOptions {
  nullable?: boolean;
  /** Database default; the column is then optional in create inputs. */
  default?: string | number | boolean;
  /** Indexed because filters (tenant, region, …) and foreign-key look-ups select on it. */
  index?: boolean;
  description?: string;
  /** Only these roles may read the field (and filter or sort on it); e.g. a salary. */
  readableBy?: string[];
  /** One column of a composite primary key (a single key is a GeneratedId or NaturalId). */
  primary?: boolean;
  /** The column's name, where it is not the property's in snake_case (an imported table's). */
  column?: string;
}

type GraphQLScalar = typeof String | typeof Boolean | typeof Int | typeof Float | typeof DateTimeISOResolver;

function column(graphqlType: GraphQLScalar, property: PropertyOptions<object>, options: ColumnOptions) {
  return (target: object, name: string) => {
    Property({
      ...property,
      nullable: options.nullable ?? false,
      ...(options.default === undefined ? {} : { default: options.default }),
      ...(options.index ? { index: true } : {}),
      ...(options.primary ? { primary: true } : {}),
      ...(options.column ? { fieldName: options.column } : {}),
    })(target, name);
    Field(() => graphqlType, { nullable: options.nullable ?? false, description: options.description })(
      target,
      name,
    );
    if (options.readableBy) Authorized(...options.readableBy)(target, name);
  };
}

export const StringColumn = (options: ColumnOptions & { length?: number } = {}) =>
  column(String, { type: 'string', length: options.length ?? 255 }, options);

/** `text`: a string of any length, as PostgreSQL stores it (a StringColumn is a varchar of a length). */
export const TextColumn = (options: ColumnOptions = {}) => column(String, { type: 'text' }, options);

export const IntColumn = (options: ColumnOptions = {}) => column(Int, { type: 'integer' }, options);

export const FloatColumn = (options: ColumnOptions = {}) => column(Float, { type: 'double' }, options);

export const BooleanColumn = (options: ColumnOptions = {}) => column(Boolean, { type: 'boolean' }, options);

export const DateTimeColumn = (options: ColumnOptions = {}) =>
  column(DateTimeISOResolver, { type: 'datetime' }, options);

/**
 * A generated integer primary key, exposed as `id: ID!`: a serial, or an identity column (as an
 * imported table may have) when `identity` says which kind.
 */
export const GeneratedId =
  (options: { identity?: 'identity' | 'by default as identity'; column?: string } = {}) =>
  (target: object, name: string) => {
    PrimaryKey({
      type: 'integer',
      autoincrement: true,
      generated: options.identity,
      ...(options.column ? { fieldName: options.column } : {}),
    })(target, name);
    Field(() => ID)(target, name);
  };

/** A natural string primary key chosen by the client (e.g. a customer code). */
export const NaturalId = (options: { length: number; column?: string }) => (target: object, name: string) => {
  PrimaryKey({
    type: 'string',
    length: options.length,
    ...(options.column ? { fieldName: options.column } : {}),
  })(target, name);
  Field(() => ID)(target, name);
};
