import { type EntityMetadata, type EntityProperty } from '@mikro-orm/core';
import { enumValueNames } from '../../api/column-types.js';

/** One property of an entity class to write, with the decorator that maps it. */
export interface PlannedMember {
  name: string;
  /** `@StringColumn({ length: 80 })`, `@ToOne(() => Region, { nullable: true })`, … */
  decorator: string;
  /** What the column decorators of src/model/columns.ts (or relations.ts) are needed. */
  uses: string;
  /** The TypeScript type of the property. */
  type: string;
  optional: boolean;
  /** The entity class a relation points to. */
  target?: string;
  /** The enum constant (written in enums.ts) the column decorator names. */
  enumName?: string;
}

export interface PlannedEntity {
  className: string;
  tableName: string;
  schema?: string;
  members: PlannedMember[];
}

export interface Skipped {
  /** `staff`, or `staff.salary` for one column. */
  what: string;
  why: string;
}

/** What MikroORM's introspection says about one table: its name and its entity declaration. */
export interface IntrospectedTable {
  name: string;
  schema?: string;
  meta: EntityMetadata;
}

/**
 * Column types the decorators of src/model/columns.ts map exactly, by PostgreSQL's names: the
 * decorator declares the same column type, so a migration sees no change. `list`: arrays of it are
 * served as GraphQL lists.
 */
const SCALARS: Record<string, { uses: string; type: string; list: boolean }> = {
  varchar: { uses: 'StringColumn', type: 'string', list: true },
  text: { uses: 'TextColumn', type: 'string', list: true },
  int2: { uses: 'SmallIntColumn', type: 'number', list: true },
  int4: { uses: 'IntColumn', type: 'number', list: true },
  int8: { uses: 'BigIntColumn', type: 'string', list: true },
  float4: { uses: 'RealColumn', type: 'number', list: true },
  float8: { uses: 'FloatColumn', type: 'number', list: true },
  numeric: { uses: 'DecimalColumn', type: 'string', list: true },
  bool: { uses: 'BooleanColumn', type: 'boolean', list: true },
  timestamptz: { uses: 'DateTimeColumn', type: 'Date', list: false },
  timestamp: { uses: 'LocalDateTimeColumn', type: 'string', list: true },
  date: { uses: 'DateColumn', type: 'string', list: true },
  time: { uses: 'TimeColumn', type: 'string', list: true },
  uuid: { uses: 'UuidColumn', type: 'string', list: true },
  jsonb: { uses: 'JsonColumn', type: 'unknown', list: false },
  json: { uses: 'JsonColumn', type: 'unknown', list: false },
  bytea: { uses: 'BytesColumn', type: 'Buffer', list: false },
};

/** A PostgreSQL enum the entities use: its GraphQL type and the GraphQL name of each value. */
export interface PlannedEnum {
  /** The TypeScript constant and GraphQL enum type: `mood` → `Mood`. */
  name: string;
  nativeEnumName: string;
  values: { graphql: string; database: string }[];
}

const columnTypeOf = (prop: EntityProperty) => prop.columnTypes[0] ?? String(prop.type);
const baseTypeOf = (columnType: string) => columnType.replace(/\(.*\)$/, '');

/** The column's default as the catalog gives it; MikroORM reports a column without one as `null`. */
function databaseDefault(prop: EntityProperty): string | number | boolean | undefined {
  const value = (prop.default ?? prop.defaultRaw) as string | number | boolean | null | undefined;
  return value === undefined || value === null || /^null$/i.test(String(value)) ? undefined : value;
}

/** The database default as a decorator option, when it is a plain literal the API can report. */
function literalDefault(prop: EntityProperty): string | undefined {
  const value = databaseDefault(prop);
  if (value === undefined) return undefined;
  if (value === true || value === false || typeof value === 'number') return String(value);
  const text = String(value);
  if (/^(true|false)$/.test(text) || /^-?\d+(\.\d+)?$/.test(text)) return text;
  const quoted = /^'((?:[^']|'')*)'(::[\w ]+)?$/.exec(text);
  return quoted ? `'${quoted[1]!.replace(/''/g, "\\'")}'` : undefined;
}

/** The database default as SQL, when it is an expression (`now()`) rather than a literal. */
function rawDefault(prop: EntityProperty): string | undefined {
  const sql = databaseDefault(prop);
  if (sql === undefined || literalDefault(prop) !== undefined) return undefined;
  return `'${String(sql).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function options(entries: Record<string, string | undefined>): string {
  const set = Object.entries(entries).filter(([, value]) => value !== undefined);
  return set.length === 0 ? '' : `{ ${set.map(([key, value]) => `${key}: ${value}`).join(', ')} }`;
}

const pascalCase = (name: string) =>
  name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');

/** The enums met while planning, by their PostgreSQL name; their GraphQL names avoid the entities'. */
class EnumPlanner {
  readonly enums = new Map<string, PlannedEnum>();

  constructor(private readonly classNames: Set<string>) {}

  use(nativeEnumName: string, items: readonly string[]): string {
    const known = this.enums.get(nativeEnumName);
    if (known) return known.name;
    let name = pascalCase(nativeEnumName.replace(/^.*\./, '')) || 'Enum';
    if (/^\d/.test(name)) name = `Enum${name}`;
    const taken = new Set([...this.classNames, ...[...this.enums.values()].map((e) => e.name)]);
    if (taken.has(name)) name = `${name}Enum`;
    for (let n = 2; taken.has(name); n++) name = `${name.replace(/\d+$/, '')}${n}`;
    const names = enumValueNames(items);
    this.enums.set(nativeEnumName, {
      name,
      nativeEnumName,
      values: items.map((database, i) => ({ graphql: names[i]!, database })),
    });
    return name;
  }
}

/** Why `prop` cannot be written with the project's decorators, or its member. */
function planScalar(prop: EntityProperty, enums: EnumPlanner): PlannedMember | string {
  const columnType = columnTypeOf(prop);
  const list = Boolean(prop.array) || columnType.endsWith('[]');
  const elementType = columnType.replace(/\[\]$/, '');
  const nullable = prop.nullable ? 'true' : undefined;
  const generated =
    typeof prop.generated === 'string' ? `'${prop.generated.replace(/'/g, "\\'")}'` : undefined;
  const common = {
    nullable,
    default: generated || prop.autoincrement ? undefined : literalDefault(prop),
    defaultRaw: generated || prop.autoincrement ? undefined : rawDefault(prop),
    list: list ? 'true' : undefined,
    generated,
  };
  // A native enum (a check constraint's `in (…)` list on text is served as text).
  if (prop.enum && (prop.nativeEnumName || (list && !SCALARS[baseTypeOf(elementType)]))) {
    const nativeEnumName = prop.nativeEnumName ?? elementType;
    const items = (prop.items ?? []).map(String);
    if (items.length === 0) return `enum (${columnType}) without values`;
    const enumName = enums.use(nativeEnumName, items);
    return {
      name: prop.name,
      decorator: `@EnumColumn(${enumName}, ${options({ ...common, nativeEnumName: `'${nativeEnumName}'` })})`,
      uses: 'EnumColumn',
      type: list ? 'string[]' : 'string',
      optional: prop.nullable ?? false,
      enumName,
    };
  }
  const base = baseTypeOf(elementType);
  const scalar = SCALARS[base];
  if (!scalar) return `type ${columnType} has no GraphQL mapping`;
  if (list && !scalar.list) return `array of ${base} (${columnType}): not served as a list`;
  const size = /\((\d+)(?:,\s*(\d+))?\)$/.exec(elementType);
  let specific: Record<string, string | undefined> = {};
  if (base === 'varchar') {
    if (!prop.length && !size) return 'varchar without a length: use text instead';
    specific = { length: String(prop.length ?? size![1]) };
  } else if (base === 'numeric' && size) {
    specific = { precision: size[1], scale: size[2] ?? '0' };
  } else if ((base === 'timestamp' || base === 'time') && size && size[1] !== '6') {
    specific = { precision: size[1] };
  } else if (base === 'timestamptz' && size && size[1] !== '6') {
    return `timestamptz(${size[1]}): DateTimeColumn is timestamptz(6)`;
  } else if (base === 'json') {
    specific = { binary: 'false' };
  }
  return {
    name: prop.name,
    decorator: `@${scalar.uses}(${options({ ...common, ...specific })})`,
    uses: scalar.uses,
    type: list ? `${scalar.type}[]` : scalar.type,
    optional: (prop.nullable ?? false) || Boolean(prop.generated),
  };
}

function planPrimaryKey(prop: EntityProperty): PlannedMember | string {
  const base = baseTypeOf(columnTypeOf(prop));
  if (prop.autoincrement && (base === 'int4' || base === 'int8')) {
    const identity = typeof prop.generated === 'string' ? `'${prop.generated}'` : undefined;
    return {
      name: prop.name,
      decorator: `@GeneratedId(${options({ identity, bigint: base === 'int8' ? 'true' : undefined })})`,
      uses: 'GeneratedId',
      type: base === 'int8' ? 'string' : 'number',
      optional: false,
    };
  }
  if (base === 'varchar' && prop.length) {
    return {
      name: prop.name,
      decorator: `@NaturalId({ length: ${prop.length} })`,
      uses: 'NaturalId',
      type: 'string',
      optional: false,
    };
  }
  return `primary key ${prop.name} (${columnTypeOf(prop)}): only generated integer and varchar keys are served yet`;
}

/**
 * The entity classes to write for the introspected tables, in the project's style, and what is
 * left out with the reason. A table is left out when its key cannot be served (composite, or of
 * another type) or a column every insert must fill cannot be mapped; a column is left out alone when
 * the database can fill it (nullable, a default, generated). Relations to a table left out are
 * left out the same way, until nothing changes.
 */
export function planEntities(tables: IntrospectedTable[]): {
  entities: PlannedEntity[];
  enums: PlannedEnum[];
  skipped: Skipped[];
} {
  let enums = new EnumPlanner(new Set());
  /** The tables left out, by class name (what relations name). */
  const skippedTables = new Map<string, Skipped>();
  let skippedColumns: Skipped[] = [];
  let entities: PlannedEntity[] = [];
  for (let changed = true; changed;) {
    changed = false;
    skippedColumns = [];
    entities = [];
    enums = new EnumPlanner(new Set(tables.map((table) => table.meta.className)));
    for (const table of tables) {
      if (skippedTables.has(table.meta.className)) continue;
      const outcome = planEntity(table, skippedTables, enums);
      if (typeof outcome === 'string') {
        skippedTables.set(table.meta.className, { what: table.name, why: outcome });
        changed = true;
      } else {
        entities.push(outcome.entity);
        skippedColumns.push(...outcome.skipped);
      }
    }
  }
  // Only the enums of the entities written (a table left out may have met one first).
  const used = new Set(entities.flatMap((e) => e.members.flatMap((m) => (m.enumName ? [m.enumName] : []))));
  return {
    entities,
    enums: [...enums.enums.values()].filter((e) => used.has(e.name)),
    skipped: [...skippedTables.values(), ...skippedColumns],
  };
}

function planEntity(
  table: IntrospectedTable,
  skippedTables: Map<string, Skipped>,
  enums: EnumPlanner,
): { entity: PlannedEntity; skipped: Skipped[] } | string {
  const props = Object.values(table.meta.properties) as EntityProperty[];
  const primary = props.filter((prop) => prop.primary);
  if (primary.length !== 1) {
    return primary.length === 0
      ? 'no primary key: the API addresses a row by its id'
      : `composite primary key (${primary.map((p) => p.fieldNames[0]).join(', ')}): the API addresses a row by one id`;
  }
  const members: PlannedMember[] = [];
  const skipped: Skipped[] = [];
  for (const prop of props) {
    const outcome = prop.primary
      ? planPrimaryKey(prop)
      : prop.kind === 'm:1'
        ? planRelation(prop, skippedTables)
        : prop.kind === 'scalar'
          ? planScalar(prop, enums)
          : `relation of kind ${prop.kind}`;
    if (typeof outcome !== 'string') {
      members.push(outcome);
      continue;
    }
    const fillable =
      prop.nullable || databaseDefault(prop) !== undefined || prop.generated || prop.autoincrement;
    if (prop.primary || !fillable)
      return `column ${prop.fieldNames[0]} is required and cannot be mapped: ${outcome}`;
    skipped.push({ what: `${table.name}.${prop.fieldNames[0]}`, why: outcome });
    // Still declared (outside the API), so that migrations see the column and leave it be.
    if (prop.kind === 'scalar') members.push(opaqueMember(prop));
  }
  return {
    entity: { className: table.meta.className, tableName: table.name, schema: table.schema, members },
    skipped,
  };
}

/** A column left out of the API, declared with its type as the catalog has it. */
function opaqueMember(prop: EntityProperty): PlannedMember {
  const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const generated = typeof prop.generated === 'string' ? quote(prop.generated) : undefined;
  const raw = generated ? undefined : databaseDefault(prop);
  return {
    name: prop.name,
    decorator: `@OpaqueColumn(${options({
      columnType: quote(columnTypeOf(prop)),
      nullable: prop.nullable ? 'true' : undefined,
      defaultRaw: raw === undefined ? undefined : quote(String(raw)),
      generated,
    })})`,
    uses: 'OpaqueColumn',
    type: 'unknown',
    optional: true,
  };
}

function planRelation(prop: EntityProperty, skippedTables: Map<string, Skipped>): PlannedMember | string {
  const target = String(prop.type);
  if (skippedTables.has(target)) return `refers to ${target}, which is not imported`;
  if (prop.fieldNames.length !== 1) return 'a foreign key of several columns: the API relates rows by one id';
  return {
    name: prop.name,
    decorator: `@ToOne(() => ${target}, { nullable: ${prop.nullable ? 'true' : 'false'} })`,
    uses: 'ToOne',
    type: `Rel<${target}>`,
    optional: prop.nullable ?? false,
    target,
  };
}
