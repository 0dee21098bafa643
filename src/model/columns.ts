import { ArrayType, BigIntType, type PropertyOptions, Type } from '@mikro-orm/core';
import { Enum, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { type GraphQLScalarType } from 'graphql';
import { Field, ID } from 'type-graphql';
import { KINDS, type ScalarKind } from '../api/column-types.js';

/**
 * Column decorators that declare a database column and its GraphQL field together, so a column's
 * nullability, type and exposure cannot drift apart between MikroORM and the schema.
 * A property without one of these (or without `@Field`) is not part of the API: that is how secrets stay out.
 * Types are always explicit, so nothing depends on emitted decorator metadata. Each decorator
 * declares the exact PostgreSQL type of its column, so a migration never widens an imported one;
 * how the API serves each kind is decided in src/api/column-types.ts.
 */
interface ColumnOptions {
  nullable?: boolean;
  /** Database default; the column is then optional in create inputs. */
  default?: string | number | boolean;
  /** A database default that is an SQL expression (`now()`, `gen_random_uuid()`), as the table declares it. */
  defaultRaw?: string;
  /** Indexed because filters (tenant, region, …) and foreign-key look-ups select on it. */
  index?: boolean;
  description?: string;
  /** An array column (`text[]`): a GraphQL list, not filtered or sorted on. */
  list?: boolean;
  /**
   * Filled by the database: `identity` / `by default as identity`, or a stored generated column's
   * `(<expression>) stored`. Readable, never in create or update inputs.
   */
  generated?: string;
  /** One column of a composite primary key (a single key is a GeneratedId or NaturalId). */
  primary?: boolean;
  /** A key column a sequence fills when no value is given (a `serial` column of a composite key). */
  serial?: boolean;
  /**
   * Required, without a default, and filled by a BEFORE INSERT trigger (an imported table's, e.g. a
   * `tsvector` kept up to date): optional on create, and left out of the insert when not given.
   */
  filledByTrigger?: boolean;
  /** The column's name, where it is not the property's in snake_case (an imported table's). */
  column?: string;
  /**
   * The column's comment as the database has it (an imported table's): kept so a migration leaves
   * it be, and the field's description unless one is given.
   */
  comment?: string;
}

/**
 * A PostgreSQL array written as a literal whose every element is quoted, so no element can read as
 * NULL or split in two (MikroORM's own marshalling leaves `NULL` and spaces unquoted).
 */
class QuotedArrayType extends ArrayType {
  override convertToDatabaseValue(value: unknown): string {
    if (!Array.isArray(value)) return value as string;
    const quote = (element: unknown) => `"${String(element).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    return `{${value.map(quote).join(',')}}`;
  }
}

/** A number kept as a string in JavaScript: its default is SQL as the catalog shows it (`0`, not `'0'`). */
const unquotedDefault = <T extends ColumnOptions>(options: T): T =>
  options.default === undefined
    ? options
    : { ...options, default: undefined, defaultRaw: String(options.default) };

/**
 * `timestamp` without time zone as the string PostgreSQL reads and writes: a JavaScript Date would
 * place it in the server's zone and drop the microseconds.
 */
class LocalDateTimeType extends Type<string | null | undefined, string | null | undefined> {
  constructor(private readonly precision: number) {
    super();
  }

  override convertToJSValue(value: unknown): string | null | undefined {
    if (value instanceof Date) {
      const pad = (n: number, width = 2) => String(n).padStart(width, '0');
      return `${value.getFullYear()}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}T${pad(value.getHours())}:${pad(value.getMinutes())}:${pad(value.getSeconds())}.${pad(value.getMilliseconds(), 3)}`;
    }
    return value as string | null | undefined;
  }

  override getColumnType(): string {
    return `timestamp(${this.precision})`;
  }

  override compareAsType(): string {
    return 'string';
  }

  override get runtimeType(): string {
    return 'string';
  }
}

/** `elementType`: the PostgreSQL type of the column (of its elements, for a list). */
function column(
  kind: ScalarKind,
  elementType: string,
  property: PropertyOptions<object>,
  options: ColumnOptions,
  graphqlType: GraphQLScalarType | object = KINDS[kind].graphql!,
  listProperty: PropertyOptions<object> = {},
) {
  return (target: object, name: string) => {
    const nullable = options.nullable ?? false;
    const shape: PropertyOptions<object> = options.list
      ? { type: new QuotedArrayType(), columnType: `${elementType}[]`, ...listProperty }
      : property;
    const generated = options.generated
      ? {
          generated: options.generated,
          ...(options.generated.endsWith('identity') ? { autoincrement: true } : {}),
        }
      : {};
    Property({
      ...shape,
      ...generated,
      nullable,
      ...(options.default === undefined ? {} : { default: options.default }),
      ...(options.defaultRaw === undefined ? {} : { defaultRaw: options.defaultRaw }),
      ...(options.index ? { index: true } : {}),
      // A key column is the client's (or its default's) unless the database generates it: MikroORM
      // would otherwise take a lone integer key for a serial and give it a sequence.
      ...(options.primary
        ? {
            primary: true,
            autoincrement: Boolean(options.generated?.endsWith('identity')) || Boolean(options.serial),
          }
        : {}),
      ...(options.column ? { fieldName: options.column } : {}),
      ...(options.comment === undefined ? {} : { comment: options.comment }),
      // MikroORM requires a value of a required column on insert unless something supplies one: this
      // supplies none, so the column is left out and the trigger fills it.
      ...(options.filledByTrigger ? { onCreate: () => undefined } : {}),
    })(target, name);
    Field(() => (options.list ? [graphqlType] : graphqlType), {
      nullable,
      description: options.description ?? options.comment,
    })(target, name);
  };
}

export const StringColumn = (options: ColumnOptions & { length?: number } = {}) =>
  column(
    'String',
    `varchar(${options.length ?? 255})`,
    { type: 'string', length: options.length ?? 255 },
    options,
  );

/** `varchar` without a length: a string of any length, as `text`. */
export const VarcharColumn = (options: ColumnOptions = {}) =>
  column('String', 'varchar', { type: 'string', columnType: 'varchar' }, options);

/** `text`: a string of any length, as PostgreSQL stores it (a StringColumn is a varchar of a length). */
export const TextColumn = (options: ColumnOptions = {}) =>
  column('String', 'text', { type: 'text' }, options);

/** `char(n)`: a string of at most `length` characters, blank-padded by PostgreSQL. */
export const CharColumn = (options: ColumnOptions & { length: number }) =>
  column(
    'String',
    `char(${options.length})`,
    { type: 'string', columnType: `char(${options.length})`, length: options.length },
    options,
  );

/**
 * A case-insensitive `citext` (an extension's type): a GraphQL String whose comparisons ignore case,
 * as the column's own operators do.
 */
export const CitextColumn = (options: ColumnOptions = {}) =>
  column('String', 'citext', { type: 'string', columnType: 'citext' }, options);

/**
 * A column of a type GraphQL has no scalar for (`interval`, `money`, `xml`, `inet`, ranges,
 * `tsvector`, composite types, …), served in PostgreSQL's text form (`Textual`): PostgreSQL converts
 * the text with the type's own input function on write, so a malformed value is refused there.
 * `columnType`: the type as the catalog names it (of the elements, for a `list`).
 */
export const TextualColumn = (options: ColumnOptions & { columnType: string }) =>
  column('Textual', options.columnType, { type: 'string', columnType: options.columnType }, options);

export const IntColumn = (options: ColumnOptions = {}) => column('Int', 'int', { type: 'integer' }, options);

/** `smallint`: a GraphQL Int limited to -32768…32767 when written. */
export const SmallIntColumn = (options: ColumnOptions = {}) =>
  column('Int', 'smallint', { type: 'smallint', columnType: 'smallint' }, options);

/** `bigint`: a string in GraphQL (BigInt), exact beyond 2^53. */
export const BigIntColumn = (options: ColumnOptions = {}) =>
  column(
    'BigInt',
    'bigint',
    { type: new BigIntType('string'), columnType: 'bigint' },
    unquotedDefault(options),
  );

export const FloatColumn = (options: ColumnOptions = {}) =>
  column('Float', 'double precision', { type: 'double' }, options);

/** `real`: single precision, a GraphQL Float. */
export const RealColumn = (options: ColumnOptions = {}) =>
  column('Float', 'real', { type: 'float', columnType: 'real' }, options);

/** `numeric(precision, scale)` (or unconstrained `numeric`): exact, a string in GraphQL (Decimal). */
export const DecimalColumn = (options: ColumnOptions & { precision?: number; scale?: number } = {}) =>
  column(
    'Decimal',
    options.precision ? `numeric(${options.precision},${options.scale ?? 0})` : 'numeric',
    {
      type: 'decimal',
      columnType: options.precision ? `numeric(${options.precision},${options.scale ?? 0})` : 'numeric',
      ...(options.precision ? { precision: options.precision, scale: options.scale ?? 0 } : {}),
    },
    unquotedDefault(options),
  );

export const BooleanColumn = (options: ColumnOptions = {}) =>
  column('Boolean', 'boolean', { type: 'boolean' }, options);

/** `timestamptz`: an instant (DateTimeISO). */
export const DateTimeColumn = (options: ColumnOptions = {}) =>
  column('DateTime', 'timestamptz', { type: 'datetime' }, options);

/** `timestamp` without time zone, `timestamp(precision)`: a LocalDateTime, never shifted by a zone. */
export const LocalDateTimeColumn = (options: ColumnOptions & { precision?: number } = {}) =>
  column(
    'LocalDateTime',
    `timestamp(${options.precision ?? 6})`,
    {
      type: new LocalDateTimeType(options.precision ?? 6),
      columnType: `timestamp(${options.precision ?? 6})`,
    },
    options,
  );

/** `date`: a LocalDate (YYYY-MM-DD). */
export const DateColumn = (options: ColumnOptions = {}) =>
  column('LocalDate', 'date', { type: 'date', columnType: 'date' }, options);

/** `time` without time zone: a LocalTime (HH:MM:SS[.ffffff]). */
export const TimeColumn = (options: ColumnOptions & { precision?: number } = {}) =>
  column(
    'LocalTime',
    `time(${options.precision ?? 6})`,
    { type: 'time', columnType: `time(${options.precision ?? 6})` },
    options,
  );

export const UuidColumn = (options: ColumnOptions = {}) =>
  column('UUID', 'uuid', { type: 'uuid', columnType: 'uuid' }, options);

/** `jsonb` (or `json` with `binary: false`): any JSON value. */
export const JsonColumn = (options: ColumnOptions & { binary?: boolean } = {}) =>
  column(
    'JSON',
    options.binary === false ? 'json' : 'jsonb',
    { type: 'json', columnType: options.binary === false ? 'json' : 'jsonb' },
    options,
  );

/** `bytea`: the bytes as standard base64. */
export const BytesColumn = (options: ColumnOptions = {}) =>
  column('Base64', 'bytea', { type: 'blob', columnType: 'bytea' }, options);

/**
 * A PostgreSQL enum type (`nativeEnumName`) as a GraphQL enum: `values` maps GraphQL names to the
 * database's values and is registered with type-graphql under its own name by whoever declares it.
 */
export const EnumColumn = (
  values: Record<string, string>,
  options: Omit<ColumnOptions, 'default'> & { nativeEnumName: string; default?: string },
) => {
  const items = Object.values(values);
  if (!options.list) {
    return (target: object, name: string) => {
      const nullable = options.nullable ?? false;
      Enum({
        items: () => items as never,
        nativeEnumName: options.nativeEnumName,
        nullable,
        ...(options.default === undefined ? {} : { default: options.default }),
        ...(options.index ? { index: true } : {}),
        ...(options.primary ? { primary: true } : {}),
        ...(options.column ? { fieldName: options.column } : {}),
        ...(options.comment === undefined ? {} : { comment: options.comment }),
      })(target, name);
      Field(() => values, { nullable, description: options.description ?? options.comment })(target, name);
    };
  }
  // The items are the column's as MikroORM compares them (no `enum: true`: that adds a CHECK).
  return column('Enum', options.nativeEnumName, {}, options, values, { items } as PropertyOptions<object>);
};

/**
 * A generated integer primary key, exposed as `id: ID!`: a serial, or an identity column (as an
 * imported table may have) when `identity` says which kind; `bigint` for an int8 key.
 */
export const GeneratedId =
  (
    options: {
      identity?: 'identity' | 'by default as identity';
      bigint?: boolean;
      column?: string;
      comment?: string;
    } = {},
  ) =>
  (target: object, name: string) => {
    PrimaryKey({
      type: options.bigint ? new BigIntType('string') : 'integer',
      autoincrement: true,
      generated: options.identity,
      ...(options.column ? { fieldName: options.column } : {}),
      ...(options.comment === undefined ? {} : { comment: options.comment }),
    })(target, name);
    Field(() => ID, { description: options.comment })(target, name);
  };

/** A natural string primary key chosen by the client (e.g. a customer code). */
export const NaturalId =
  (options: { length: number; column?: string; comment?: string }) => (target: object, name: string) => {
    PrimaryKey({
      type: 'string',
      length: options.length,
      ...(options.column ? { fieldName: options.column } : {}),
      ...(options.comment === undefined ? {} : { comment: options.comment }),
    })(target, name);
    Field(() => ID, { description: options.comment })(target, name);
  };

/**
 * A column the API cannot serve (`tsvector`, geometric types, …), declared only so that migrations
 * see the table as it is and leave the column be: no GraphQL field, never loaded (lazy), never
 * written by the API. Only a column the database can fill itself (nullable, default, generated).
 */
export const OpaqueColumn =
  (options: {
    columnType: string;
    nullable?: boolean;
    defaultRaw?: string;
    generated?: string;
    /** The column's name, where it is not the property's in snake_case (an imported table's). */
    column?: string;
    comment?: string;
  }) =>
  (target: object, name: string) =>
    Property({
      type: 'unknown',
      columnType: options.columnType,
      ...(options.column ? { fieldName: options.column } : {}),
      ...(options.comment === undefined ? {} : { comment: options.comment }),
      nullable: options.nullable ?? false,
      lazy: true,
      ...(options.defaultRaw === undefined ? {} : { defaultRaw: options.defaultRaw }),
      ...(options.generated === undefined ? {} : { generated: options.generated }),
    })(target, name);
