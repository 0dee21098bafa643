import {
  GraphQLBoolean,
  GraphQLError,
  GraphQLFloat,
  GraphQLInt,
  GraphQLScalarType,
  GraphQLString,
  Kind,
  type ValueNode,
} from 'graphql';
import {
  DateTimeISOResolver,
  JSONResolver,
  LocalDateResolver,
  LocalDateTimeResolver,
  UUIDResolver,
} from 'graphql-scalars';
import { sql, type SqlFragment } from '../../security/system/sql-fragment.js';

/**
 * How each kind of column is served, in one place: its GraphQL scalar, the operators its filter
 * offers, whether it sorts, how a compiled read turns the column into JSON that the scalar serializes
 * exactly, and what a written value must satisfy beyond the scalar's own format. The column
 * decorators (src/model/columns.ts), the inputs, the compiled read and the importer all ask here.
 */

/** Bad input as GraphQL reports it while coercing a variable or literal: BAD_USER_INPUT. */
const invalid = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** A scalar carried as a string whose text must match `pattern`; numbers are accepted when `numbers`. */
function stringScalar(options: {
  name: string;
  description: string;
  check: (text: string) => string | undefined;
  numbers?: boolean;
  parse?: (text: string) => unknown;
}): GraphQLScalarType {
  const accept = (value: unknown): unknown => {
    let text: string;
    if (typeof value === 'string') text = value;
    else if (options.numbers && typeof value === 'number' && Number.isSafeInteger(value))
      text = String(value);
    else throw invalid(`${options.name} must be a string (got ${typeof value})`);
    const problem = options.check(text);
    if (problem) throw invalid(`Not a valid ${options.name} ("${text.slice(0, 40)}"): ${problem}`);
    return options.parse ? options.parse(text) : text;
  };
  return new GraphQLScalarType({
    name: options.name,
    description: options.description,
    serialize: (value) => (typeof value === 'string' ? value : String(value)),
    parseValue: accept,
    parseLiteral: (node: ValueNode) => {
      if (node.kind === Kind.STRING) return accept(node.value);
      if (options.numbers && node.kind === Kind.INT) return accept(node.value);
      throw invalid(`${options.name} must be given as a string`);
    },
  });
}

/**
 * A column of a type GraphQL has no scalar for (interval, money, xml, inet, ranges, tsvector, geometric
 * and composite types, …): PostgreSQL's text form of the value, read and written as the type's own
 * input and output functions spell it.
 */
export const TextualScalar = stringScalar({
  name: 'Textual',
  description:
    "A value of a PostgreSQL type without a GraphQL scalar (interval, money, xml, ranges, …), in PostgreSQL's text form",
  check: () => undefined,
});

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** numeric/decimal: exact, as a string (a JSON number would be read as a double and lose digits). */
export const DecimalScalar = stringScalar({
  name: 'Decimal',
  description: 'An exact decimal number as a string, e.g. "1234.50" (numeric/decimal columns)',
  numbers: true,
  check: (text) =>
    DECIMAL.test(text) ? undefined : 'expected digits with an optional sign and decimal point',
});

const BIGINT_MAX = 2n ** 63n - 1n;

/** int8: a 64-bit integer as a string, beyond JavaScript's 2^53. */
export const BigIntScalar = stringScalar({
  name: 'BigInt',
  description: 'A 64-bit integer as a string, e.g. "9007199254740993" (bigint columns)',
  numbers: true,
  check: (text) => {
    if (!/^[+-]?\d+$/.test(text)) return 'expected an integer';
    const value = BigInt(text);
    return value > BIGINT_MAX || value < -BIGINT_MAX - 1n ? 'out of the range of bigint' : undefined;
  },
  parse: (text) => BigInt(text).toString(),
});

/** time without time zone: `HH:MM`, `HH:MM:SS` or with up to 6 fractional digits, as PostgreSQL keeps them. */
export const LocalTimeScalar = stringScalar({
  name: 'LocalTime',
  description: 'A time of day without time zone, HH:MM:SS with optional fraction (time columns)',
  check: (text) =>
    /^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$/.test(text) || text === '24:00:00'
      ? undefined
      : 'expected HH:MM:SS',
});

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** bytea: the bytes in standard base64 (RFC 4648, with padding). */
export const Base64Scalar = stringScalar({
  name: 'Base64',
  description: 'Binary data in standard base64 with padding (bytea columns)',
  check: (text) => (BASE64.test(text) ? undefined : 'expected standard base64 with padding'),
  parse: (text) => Buffer.from(text, 'base64'),
});

export type ScalarKind =
  | 'String'
  | 'Int'
  | 'Float'
  | 'Boolean'
  | 'DateTime'
  | 'Decimal'
  | 'BigInt'
  | 'LocalDate'
  | 'LocalDateTime'
  | 'LocalTime'
  | 'UUID'
  | 'JSON'
  | 'Base64'
  | 'Textual'
  | 'Enum';

export type Operator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin' | 'like' | 'ilike' | 'isNull';

const COMPARISONS: Operator[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'isNull'];
const EQUALITY: Operator[] = ['eq', 'ne', 'in', 'nin', 'isNull'];

interface KindSpec {
  /** Absent for enums: each has its own GraphQL enum type. */
  graphql?: GraphQLScalarType;
  /** Pattern matching only makes sense on text, ordering not on booleans, JSON and bytes only null tests. */
  operators: Operator[];
  sortable: boolean;
  /** The column as JSON that the scalar serializes exactly; the column itself when json_build_object's is right. */
  json?: (column: SqlFragment) => SqlFragment;
  /** The same for an array of this kind. */
  jsonList?: (column: SqlFragment) => SqlFragment;
  /**
   * How PostgreSQL writes, byte for byte, the JSON the response writes of the scalar's serialized
   * value, so that a read may hand it to the client unchanged (`answerJson`): `json` itself, or an
   * expression of its own. None for LocalDate and LocalDateTime (the scalars refuse dates PostgreSQL
   * holds: BC, infinity), JSON (jsonb's spacing) and enums (GraphQL names of their own).
   */
  answer?: 'json' | ((column: SqlFragment) => SqlFragment);
}

/**
 * Fails the statement where a value the response cannot hold is met (graphql-js answers an error
 * there too): the cast of a text that is not JSON, which names the value and `why` in the log's detail.
 */
const failing = (column: SqlFragment, why: string) =>
  sql`(coalesce(${column}::text, 'null') || ${` ${why}`}::text)::json`;

const unrepresentable = (column: SqlFragment, scalar: string) =>
  failing(column, `cannot be written as a GraphQL ${scalar}`);

/**
 * A float as JavaScript writes a number. PostgreSQL's shortest digits are JavaScript's, but it writes
 * 1e+15 and 1e-05 where JavaScript writes 1000000000000000 and 0.00001 (fixed from 1e-6 to 1e21: the
 * shortest text read as numeric, its bounds judged on that text as JavaScript does) and 1e-08 where it
 * writes 1e-8; -0 is 0. From 2^53 up see `largeFloat`. NaN and ±Infinity, which GraphQL's Float
 * cannot represent, fail the statement.
 */
const floatAnswer = (column: SqlFragment) =>
  sql.join(
    [
      sql`case`,
      sql`when ${column} in ('NaN', 'Infinity', '-Infinity') then ${unrepresentable(column, 'Float')}`,
      sql`when ${column} = 0 then '0'::json`,
      sql`when abs(${column}) >= 9007199254740992 then ${largeFloat(column)}`,
      sql`when abs(${column}::text::numeric) >= 1e-6 then to_json(${column}::text::numeric)`,
      sql`else regexp_replace(${column}::text, 'e-0*', 'e-')::json end`,
    ],
    sql` `,
  );

/**
 * A float of 2^53 or more (PostgreSQL writes d.ddd…e+n) as JavaScript writes it: an integer below
 * 1e21, d.ddd…e+n from there. Doubles are integers far apart there, and a decimal one digit shorter
 * than PostgreSQL's may read back as the same double (lying halfway to the next, or at a bound
 * PostgreSQL's shortest digits exclude): JavaScript writes that one (unless it carries into another
 * power of ten, or past the largest double). Computed in a subquery, so that the mantissa is written
 * once (the branch is rare; the statement's length is not).
 */
function largeFloat(column: SqlFragment): SqlFragment {
  const mantissa = sql`split_part(${column}::text, 'e', 1)`;
  const shorter = sql`round(${mantissa}::numeric, length(${mantissa}) - 4 + (${column} > 0)::int)`;
  const scale = sql`('1e' || split_part(${column}::text, 'e', 2))::numeric`;
  const chosen = sql.join(
    [
      sql`case when abs(${shorter}) >= 10 or abs(${shorter} * ${scale}) > 1.7976931348623157e308`,
      sql`then ${mantissa}::numeric when (${shorter} * ${scale})::float8 = ${column}::text::float8`,
      sql`then ${shorter} else ${mantissa}::numeric end`,
    ],
    sql` `,
  );
  return sql.join(
    [
      sql`(select case when abs(f.m) * f.s < 1e21 then to_json(trim_scale(f.m * f.s))`,
      sql`else (trim_scale(f.m)::text || 'e+' || log(f.s)::int)::json end`,
      sql`from (select ${chosen} as m, ${scale} as s) as f)`,
    ],
    sql` `,
  );
}

/**
 * A timestamptz as the DateTime scalar writes it: in UTC with milliseconds (both truncate the
 * microseconds). Outside the years 1 to 9999, which the scalar refuses, the statement fails.
 */
const dateTimeAnswer = (column: SqlFragment) =>
  sql.join(
    [
      sql`case`,
      sql`when ${column} >= '0001-01-01 00:00:00+00' and ${column} < '10000-01-01 00:00:00+00'`,
      sql`then to_json(to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`,
      sql`when ${column} is not null then ${unrepresentable(column, 'DateTime')} end`,
    ],
    sql` `,
  );

const asText = (column: SqlFragment) => sql`${column}::text`;
const asTextList = (column: SqlFragment) => sql`${column}::text[]`;

export const KINDS: Record<ScalarKind, KindSpec> = {
  String: {
    answer: 'json',
    graphql: GraphQLString,
    operators: [...COMPARISONS, 'like', 'ilike'],
    sortable: true,
  },
  Int: { answer: 'json', graphql: GraphQLInt, operators: COMPARISONS, sortable: true },
  Float: { answer: floatAnswer, graphql: GraphQLFloat, operators: COMPARISONS, sortable: true },
  Boolean: { answer: 'json', graphql: GraphQLBoolean, operators: ['eq', 'ne', 'isNull'], sortable: true },
  DateTime: { answer: dateTimeAnswer, graphql: DateTimeISOResolver, operators: COMPARISONS, sortable: true },
  Decimal: {
    answer: 'json',
    graphql: DecimalScalar,
    operators: COMPARISONS,
    sortable: true,
    json: asText,
    jsonList: asTextList,
  },
  BigInt: {
    answer: 'json',
    graphql: BigIntScalar,
    operators: COMPARISONS,
    sortable: true,
    json: asText,
    jsonList: asTextList,
  },
  LocalDate: { graphql: LocalDateResolver, operators: COMPARISONS, sortable: true },
  LocalDateTime: { graphql: LocalDateTimeResolver, operators: COMPARISONS, sortable: true },
  LocalTime: {
    answer: 'json',
    graphql: LocalTimeScalar,
    operators: COMPARISONS,
    sortable: true,
    json: asText,
  },
  UUID: { answer: 'json', graphql: UUIDResolver, operators: EQUALITY, sortable: true },
  JSON: { graphql: JSONResolver, operators: ['isNull'], sortable: false },
  Base64: {
    answer: 'json',
    graphql: Base64Scalar,
    operators: ['isNull'],
    sortable: false,
    // encode() breaks base64 into lines of 76 characters.
    json: (column) => sql`translate(encode(${column}, 'base64'), E'\\n', '')`,
  },
  // Some of these types have no equality (xml, point) and some order surprisingly as text: only null
  // tests, no sorting, for any of them.
  Textual: {
    answer: 'json',
    graphql: TextualScalar,
    operators: ['isNull'],
    sortable: false,
    json: asText,
    jsonList: asTextList,
  },
  Enum: { operators: EQUALITY, sortable: true },
};

/** The kind of a field from the GraphQL type its column decorator declared (enums are told apart by the caller). */
export function kindOfGraphQLType(type: unknown): ScalarKind | undefined {
  if (type === String) return 'String';
  if (type === Boolean) return 'Boolean';
  if (type === Number) return 'Float';
  return (Object.keys(KINDS) as ScalarKind[]).find((kind) => KINDS[kind].graphql === type);
}

/** What the API knows of a column beyond its GraphQL type, to check written values the scalar admits. */
export interface ColumnFacts {
  /** PostgreSQL's name of the (element) type: int2, int4, float4, numeric, varchar… */
  type: string;
  precision?: number;
  scale?: number;
  maxLength?: number;
}

/** The column of `json_build_object`'s value for a compiled read: exact for every kind. */
export function columnJson(field: { kind: ScalarKind; list: boolean }, column: SqlFragment): SqlFragment {
  const spec = KINDS[field.kind];
  const convert = field.list ? spec.jsonList : spec.json;
  return convert ? convert(column) : column;
}

/** The kinds whose values an ID field writes as PostgreSQL's text of them (`answerJson`). */
const ID_KINDS: ScalarKind[] = ['Int', 'BigInt', 'String', 'UUID', 'Decimal'];

/** A column as a compiled read knows it: its kind, whether an array, its PostgreSQL type. */
type AnsweredColumn = { kind: ScalarKind; list: boolean; column: ColumnFacts };

/**
 * PostgreSQL can write the field's value exactly as the response does (see KindSpec.answer); not
 * an array column, which graphql-js completes (a null element of a non-null list is an error), nor a
 * DateTime column without a time zone (the scalar reads it in the gateway's).
 */
export const answerable = (field: AnsweredColumn, asId: boolean): boolean =>
  !field.list &&
  KINDS[field.kind].answer !== undefined &&
  (field.kind !== 'DateTime' || field.column.type === 'timestamptz') &&
  (!asId || ID_KINDS.includes(field.kind));

/** The column as the response writes an `answerable` field's value: an ID is always a string. */
export function answerJson(field: AnsweredColumn, column: SqlFragment, asId: boolean): SqlFragment {
  if (asId) return sql`${column}::text`;
  const answer = KINDS[field.kind].answer;
  return typeof answer === 'function' ? answer(column) : columnJson(field, column);
}

/**
 * `row` (an answer's JSON of one row) unless one of `nonNull`, the columns of its fields the schema
 * says are non-null, is null (the database drifted from its entity): then the statement fails, where
 * graphql-js would answer an error. One test per row, not a case per column: statements stay short.
 */
export function nonNullChecked(row: SqlFragment, nonNull: SqlFragment[]): SqlFragment {
  if (nonNull.length === 0) return row;
  const nulls = sql`num_nulls(${sql.join(nonNull)})`;
  return sql`case when ${nulls} = 0 then ${row} else ${failing(sql`${nulls}`, 'null values in non-null fields')} end`;
}

const RANGES: Record<string, [number, number]> = {
  int2: [-32768, 32767],
  int4: [-2147483648, 2147483647],
};

/** Why a written value does not fit its column (undefined when it fits): checked before anything is written. */
export function misfit(column: ColumnFacts, value: unknown): string | undefined {
  if (typeof value === 'string' && column.maxLength !== undefined && value.length > column.maxLength) {
    return `must be at most ${column.maxLength} characters long`;
  }
  const range = RANGES[column.type];
  if (range && typeof value === 'number' && (value < range[0] || value > range[1])) {
    return `must be between ${range[0]} and ${range[1]} (${column.type === 'int2' ? 'smallint' : 'integer'})`;
  }
  if (column.type === 'float4' && typeof value === 'number' && Math.abs(value) > 3.4028234663852886e38) {
    return 'is out of the range of real';
  }
  if (column.type === 'numeric' && typeof value === 'string' && column.precision) {
    const [whole = '', fraction = ''] = value.replace(/^[+-]/, '').split('.');
    const scale = column.scale ?? 0;
    const digits = whole.replace(/^0+/, '').length;
    if (fraction.length > scale)
      return `takes at most ${scale} decimal places (numeric(${column.precision}, ${scale}))`;
    if (digits > column.precision - scale) {
      return `takes at most ${column.precision - scale} digits before the decimal point (numeric(${column.precision}, ${scale}))`;
    }
  }
  return undefined;
}

/**
 * GraphQL names for the values of a PostgreSQL enum, in order: upper case, each run of characters
 * a GraphQL name cannot hold becomes `_`, a leading digit gets a `_` before it, and a name taken
 * by an earlier value gets `_2`, `_3`… (`in progress` → `IN_PROGRESS`, `1st` → `_1ST`, `Busy` after
 * `busy` → `BUSY_2`). The database's values themselves are what is stored and compared.
 */
export function enumValueNames(values: readonly string[]): string[] {
  const taken = new Set<string>();
  return values.map((value) => {
    let name = value
      .toUpperCase()
      .replace(/[^A-Z0-9_]+/g, '_')
      .replace(/^_+/, '_');
    if (/^\d/.test(name)) name = `_${name}`;
    if (name === '' || name === '_') name = '_EMPTY';
    let unique = name;
    for (let n = 2; taken.has(unique); n++) unique = `${name}_${n}`;
    taken.add(unique);
    return unique;
  });
}
