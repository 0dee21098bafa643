import { type EntityMetadata, type EntityProperty, UnderscoreNamingStrategy } from '@mikro-orm/core';
import { type ForeignKey } from '@mikro-orm/postgresql';
import { enumValueNames } from '../../api/column-types.js';
import { lowerFirst, pluralize, upperFirst } from '../../api/entity-model.js';
import { fileBaseOf, tsString } from './source-text.js';

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
  /** The column it maps (a relation: its foreign key). */
  column?: string;
  /** A to-one relation's column in the target table (its key column, whatever it is called). */
  referencedColumn?: string;
  /** A to-many relation (the inverse of a to-one): its member is a collection, not a column. */
  collection?: boolean;
  /** The trigger that fills a required column without a default on insert: optional on create. */
  filledBy?: string;
  /** A column of the primary key (a to-one relation that is one too). */
  primary?: boolean;
  /** A to-many relation's to-one property on its target: `invoice.customer` for `customer.invoices`. */
  inverseOf?: string;
  /** Why a column is served in PostgreSQL's text form (TextualColumn) rather than a scalar of its own. */
  asText?: string;
}

export interface PlannedEntity {
  className: string;
  tableName: string;
  schema?: string;
  members: PlannedMember[];
  /** The table's own indexes, unique constraints and checks: `@Index({ name: …, properties: […] })`, … */
  tableDecorators: string[];
  /** The table's comment: kept, and the GraphQL type's description. */
  comment?: string;
  /** A view: served read-only, by its key where it has one. */
  view?: { definition: string };
  /** Its foreign keys served as references by columns (src/model/relations.ts `ReferencesByColumns`). */
  columnReferences: PlannedColumnReference[];
}

/**
 * A foreign key MikroORM cannot make a relation of (several columns, or a column other than its
 * target's single key), served by the API as a reference by its columns, both ways.
 */
export interface PlannedColumnReference {
  name: string;
  target: string;
  /** Each member carrying one of its columns, with the target's member of the column it refers to. */
  columns: [string, string][];
  inverse: string;
}

/** A foreign key served as its columns, to be made a reference by them once every entity is planned. */
interface PendingReference {
  columns: string[];
  targetTable: string;
  referencedColumns: string[];
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
  /**
   * Every column as a scalar property, foreign keys included (the declaration with
   * `scalarPropertiesForRelations: 'always'`), by column name: what a foreign key the API cannot
   * serve as a relation is mapped as.
   */
  columns?: Map<string, EntityProperty>;
  /** Its foreign keys, by their columns joined with commas. */
  foreignKeys?: Map<string, ForeignKey>;
  /** The primary key's columns in the constraint's order (MikroORM's declaration has the table's). */
  primaryKeyColumns?: string[];
  /** Set for a view: its SQL as the catalog gives it (pg_get_viewdef). */
  view?: { definition: string };
  /** Required columns without a default that a BEFORE INSERT trigger fills, with the trigger's name. */
  triggerFilled?: Map<string, string>;
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

/**
 * The column's default as SQL, as the catalog gives it (`'new'`, `0`, `now()`); MikroORM reports a
 * column without one as `null`.
 */
function databaseDefault(prop: EntityProperty): string | number | boolean | undefined {
  const value = (prop.defaultRaw ?? prop.default) as string | number | boolean | null | undefined;
  return value === undefined || value === null || /^null$/i.test(String(value)) ? undefined : value;
}

/** The column's comment as a decorator option: kept, so a migration leaves it be. */
const commentOf = (prop: EntityProperty) => (prop.comment ? tsString(prop.comment) : undefined);

/** The database default as a decorator option, when it is a plain literal the API can report. */
function literalDefault(prop: EntityProperty): string | undefined {
  const value = databaseDefault(prop);
  if (value === undefined) return undefined;
  if (value === true || value === false || typeof value === 'number') return String(value);
  const text = String(value);
  if (/^(true|false)$/.test(text) || /^-?\d+(\.\d+)?$/.test(text)) return text;
  const quoted = /^'((?:[^']|'')*)'(::[\w ]+)?$/.exec(text);
  return quoted ? tsString(quoted[1]!.replace(/''/g, "'")) : undefined;
}

/** The database default as SQL, when it is an expression (`now()`) rather than a literal. */
function rawDefault(prop: EntityProperty): string | undefined {
  const sql = databaseDefault(prop);
  if (sql === undefined || literalDefault(prop) !== undefined) return undefined;
  return tsString(String(sql));
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

/**
 * Why `prop` cannot be written with the project's decorators, or its member. `primary`: a column of a composite key (or a single key that is neither a GeneratedId nor a
 * NaturalId), given by the client and never null.
 */
function planScalar(
  prop: EntityProperty,
  enums: EnumPlanner,
  primary = false,
  filledBy?: string,
): PlannedMember | string {
  const columnType = columnTypeOf(prop);
  const list = Boolean(prop.array) || columnType.endsWith('[]');
  const elementType = columnType.replace(/\[\]$/, '');
  const nullable = prop.nullable && !primary ? 'true' : undefined;
  const generated = typeof prop.generated === 'string' ? tsString(prop.generated) : undefined;
  const common = {
    nullable,
    default: generated || prop.autoincrement ? undefined : literalDefault(prop),
    defaultRaw: generated || prop.autoincrement ? undefined : rawDefault(prop),
    list: list ? 'true' : undefined,
    generated,
    primary: primary ? 'true' : undefined,
    // A serial column of a composite key: its sequence fills it when the client gives none.
    serial: primary && prop.autoincrement ? 'true' : undefined,
    filledByTrigger: filledBy && !primary ? 'true' : undefined,
    comment: commentOf(prop),
  };
  const optional = !primary && (Boolean(prop.nullable) || Boolean(prop.generated) || Boolean(filledBy));
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
      optional: !primary && Boolean(prop.nullable),
      enumName,
      column: prop.fieldNames[0],
    };
  }
  const base = baseTypeOf(elementType);
  const size = /\((\d+)(?:,\s*(\d+))?\)$/.exec(elementType);
  /** The column with `uses`, a decorator of columns.ts, and these options besides the common ones. */
  const member = (uses: string, type: string, specific: Record<string, string | undefined> = {}) => ({
    name: prop.name,
    decorator: `@${uses}(${options({ ...common, ...specific })})`,
    uses,
    type: list ? `${type}[]` : type,
    optional,
    column: prop.fieldNames[0],
  });
  /** The column in PostgreSQL's text form, where no scalar of the API fits it, and why. */
  const asText = (why: string): PlannedMember => ({
    ...member('TextualColumn', 'string', { columnType: tsString(elementType) }),
    asText: why,
  });
  if (base === 'char' && size) return member('CharColumn', 'string', { length: size[1] });
  if (base === 'citext') return member('CitextColumn', 'string');
  const scalar = SCALARS[base];
  if (!scalar) return asText(`type ${columnType} has no GraphQL scalar`);
  if (list && !scalar.list) return asText(`an array of ${base} is not served as a list of ${scalar.uses}`);
  let specific: Record<string, string | undefined> = {};
  if (base === 'varchar') {
    // MikroORM gives a varchar without a length the length -1.
    const length = (prop.length ?? 0) > 0 ? prop.length : size?.[1];
    if (!length) return member('VarcharColumn', 'string');
    specific = { length: String(length) };
  } else if (base === 'numeric' && size) {
    specific = { precision: size[1], scale: size[2] ?? '0' };
  } else if ((base === 'timestamp' || base === 'time') && size && size[1] !== '6') {
    specific = { precision: size[1] };
  } else if (base === 'timestamptz' && size && size[1] !== '6') {
    return asText(`timestamptz(${size[1]}): DateTimeColumn is timestamptz(6)`);
  } else if (base === 'json') {
    specific = { binary: 'false' };
  }
  return member(scalar.uses, scalar.type, specific);
}

/**
 * A column of the primary key. A single generated integer (int4 or int8) key is a GeneratedId, a single varchar one
 * a NaturalId; any other key column (every column of a composite key) is its scalar column marked
 * `primary`, given by the client when a row is created.
 */
function planPrimaryKey(
  prop: EntityProperty,
  composite: boolean,
  enums: EnumPlanner,
): PlannedMember | string {
  const base = baseTypeOf(columnTypeOf(prop));
  const generatedKey = prop.autoincrement && (base === 'int4' || base === 'int8');
  // MikroORM gives a varchar without a length the length -1.
  const naturalKey = base === 'varchar' && (prop.length ?? 0) > 0;
  if (composite || !(generatedKey || naturalKey)) {
    if (prop.generated === 'identity')
      return `primary key ${prop.fieldNames[0]} is always generated by the database, and this key is given by the client`;
    const column = planScalar({ ...prop, generated: undefined } as EntityProperty, enums, true);
    return typeof column === 'string'
      ? `primary key ${prop.fieldNames[0]} (${columnTypeOf(prop)}): ${column}`
      : column;
  }
  if (generatedKey) {
    const identity = typeof prop.generated === 'string' ? `'${prop.generated}'` : undefined;
    return {
      name: prop.name,
      decorator: `@GeneratedId(${options({ identity, bigint: base === 'int8' ? 'true' : undefined, comment: commentOf(prop) })})`,
      uses: 'GeneratedId',
      type: base === 'int8' ? 'string' : 'number',
      optional: false,
      column: prop.fieldNames[0],
    };
  }
  if (naturalKey) {
    return {
      name: prop.name,
      decorator: `@NaturalId(${options({ length: String(prop.length), comment: commentOf(prop) })})`,
      uses: 'NaturalId',
      type: 'string',
      optional: false,
      column: prop.fieldNames[0],
    };
  }
  return `primary key ${prop.name} (${columnTypeOf(prop)}): no key column decorator`;
}

/** GraphQL and the gateway already use these type names: an entity class may not take them. */
const RESERVED_NAMES = new Set([
  'Query',
  'Mutation',
  'Subscription',
  'AuthPayload',
  'CurrentUser',
  'SortDirection',
  'String',
  'Int',
  'Float',
  'Boolean',
  'ID',
  'DateTimeISO',
  'JSONObject',
  'JSON',
  'Decimal',
  'BigInt',
  'LocalDate',
  'LocalDateTime',
  'LocalTime',
  'UUID',
  'Base64',
  'Date',
  'Object',
  'Array',
  'Map',
  'Set',
  'Error',
]);

const tableKey = (table: { name: string; schema?: string }) => `${table.schema ?? 'public'}.${table.name}`;
const pascal = (text: string) =>
  text.replace(/(^|[_\W]+)(\w)/g, (_, _sep: string, letter: string) => letter.toUpperCase());

/**
 * One class name per table, all distinct: MikroORM's name for it, unless an earlier table (in the
 * order of --schema, then by name) or the API took it; then its schema comes first (`billing.staff`
 * → `BillingStaff`), then a number.
 */
function classNamesOf(tables: IntrospectedTable[]): Map<string, string> {
  const names = new Map<string, string>();
  // A class's file is named after it too (`AbTest` and `ABTest` would both be ab-test.entity.ts).
  const taken = new Set([...RESERVED_NAMES].map(fileBaseOf));
  const isTaken = (name: string) => taken.has(fileBaseOf(name));
  for (const table of tables) {
    const base = table.meta.className;
    let name = isTaken(base) ? `${pascal(table.schema ?? 'public')}${base}` : base;
    for (let n = 2; isTaken(name); n++) name = `${pascal(table.schema ?? 'public')}${base}${n}`;
    taken.add(fileBaseOf(name));
    names.set(tableKey(table), name);
  }
  return names;
}

/** What a relation needs to know of the tables: each one's class name and key columns. */
interface TableIndex {
  classNames: Map<string, string>;
  keyColumns: Map<string, string[]>;
  /** The column types of each table's key columns, by column. */
  keyTypes: Map<string, Map<string, string>>;
  /** The tables left out, by table key. */
  skipped: Map<string, Skipped>;
}

/**
 * The entity classes to write for the introspected tables, in the project's style, and what is
 * left out with the reason. A table is left out when it has no key, a key column cannot be served,
 * or a column every insert must fill cannot be mapped; a column is left out alone when the database
 * can fill it (nullable, a default, generated). A foreign key the API cannot serve as a relation (of
 * several columns, to a composite key or to a table left out) is mapped as its columns, until nothing
 * changes. Class names and the names of each class's fields are distinct.
 */
export function planEntities(tables: IntrospectedTable[]): {
  entities: PlannedEntity[];
  enums: PlannedEnum[];
  skipped: Skipped[];
  actingForeignKeys: string[];
} {
  const index: TableIndex = {
    classNames: classNamesOf(tables),
    keyColumns: new Map(
      tables.map((table) => [
        tableKey(table),
        (Object.values(table.meta.properties) as EntityProperty[])
          .filter((prop) => prop.primary)
          .flatMap((prop) => prop.fieldNames),
      ]),
    ),
    keyTypes: new Map(
      tables.map((table) => [
        tableKey(table),
        new Map(
          (Object.values(table.meta.properties) as EntityProperty[])
            .filter((prop) => prop.primary)
            .flatMap((prop) =>
              prop.fieldNames.map((field, i) => [field, prop.columnTypes[i] ?? ''] as const),
            ),
        ),
      ]),
    ),
    skipped: new Map(),
  };
  // Enum names avoid the class names and the API's type names.
  const typeNames = new Set([...RESERVED_NAMES, ...index.classNames.values()]);
  let enums = new EnumPlanner(typeNames);
  let skippedColumns: Skipped[] = [];
  let entities: PlannedEntity[] = [];
  let pending = new Map<PlannedEntity, PendingReference[]>();
  for (let changed = true; changed;) {
    changed = false;
    skippedColumns = [];
    entities = [];
    pending = new Map();
    enums = new EnumPlanner(typeNames);
    for (const table of tables) {
      if (index.skipped.has(tableKey(table))) continue;
      const outcome = planEntity(table, index, enums);
      if (typeof outcome === 'string') {
        index.skipped.set(tableKey(table), { what: table.name, why: outcome });
        changed = true;
      } else {
        entities.push(outcome.entity);
        skippedColumns.push(...outcome.skipped);
        pending.set(outcome.entity, outcome.references);
      }
    }
  }
  addInverseRelations(entities);
  skippedColumns.push(...addColumnReferences(entities, pending, index));
  // Only the enums of the entities written (a table left out may have met one first).
  const used = new Set(entities.flatMap((e) => e.members.flatMap((m) => (m.enumName ? [m.enumName] : []))));
  return {
    entities,
    enums: [...enums.enums.values()].filter((e) => used.has(e.name)),
    skipped: [...index.skipped.values(), ...skippedColumns],
    actingForeignKeys: actingForeignKeys(tables, index),
  };
}

/**
 * The imported foreign keys that delete or rewrite rows when a row they refer to is deleted through
 * the API (`staff.region_id → region: on delete cascade`). PostgreSQL runs these actions under no row
 * security, so they reach rows the caller may not see; the import keeps them (the tables are the
 * team's) and says so.
 */
function actingForeignKeys(tables: IntrospectedTable[], index: TableIndex): string[] {
  const imported = (name: string) => {
    const key = name.includes('.') ? name : `public.${name}`;
    return index.classNames.has(key) && !index.skipped.has(key);
  };
  return tables
    .filter((table) => imported(tableKey(table)))
    .flatMap((table) => [...(table.foreignKeys?.values() ?? [])].map((fk) => ({ table, fk })))
    .filter(
      ({ fk }) =>
        ['cascade', 'set null', 'set default'].includes(fk.deleteRule ?? '') &&
        imported(fk.referencedTableName),
    )
    .map(
      ({ table, fk }) =>
        `${table.name}.${fk.columnNames.join(', ')} → ${fk.referencedTableName.replace(/^public\./, '')}: on delete ${fk.deleteRule}`,
    );
}

function planEntity(
  table: IntrospectedTable,
  index: TableIndex,
  enums: EnumPlanner,
): { entity: PlannedEntity; skipped: Skipped[]; references: PendingReference[] } | string {
  const props = Object.values(table.meta.properties) as EntityProperty[];
  const references: PendingReference[] = [];
  const keyColumns = index.keyColumns.get(tableKey(table))!;
  // A view without a key is still listed and counted; a table without one cannot be written.
  if (keyColumns.length === 0 && !table.view) return 'no primary key: the API addresses a row by its key';
  const composite = keyColumns.length > 1;
  const members: PlannedMember[] = [];
  const skipped: Skipped[] = [];
  const mapped = new Set(props.flatMap((prop) => prop.fieldNames));
  /** Maps `prop`, or says why not; a required column that cannot be mapped leaves the table out. */
  const add = (prop: EntityProperty, outcome: PlannedMember | string): string | undefined => {
    if (typeof outcome !== 'string') {
      members.push(prop.primary ? { ...outcome, primary: true } : outcome);
      return undefined;
    }
    const fillable =
      prop.nullable || databaseDefault(prop) !== undefined || prop.generated || prop.autoincrement;
    if (prop.primary || keyColumns.includes(prop.fieldNames[0]!) || !fillable)
      return `column ${prop.fieldNames.join(', ')} is required and cannot be mapped: ${outcome}`;
    skipped.push({ what: `${table.name}.${prop.fieldNames.join(', ')}`, why: outcome });
    // Still declared (outside the API), so that migrations see the column and leave it be.
    if (prop.kind === 'scalar') members.push(opaqueMember(prop));
    return undefined;
  };
  /** The foreign key columns of `relation` as plain columns, from the declaration that has them. */
  const asColumns = (fieldNames: string[]): string | undefined => {
    for (const column of fieldNames) {
      const prop = table.columns?.get(column);
      const failure = prop
        ? add(
            { ...prop, persist: undefined } as EntityProperty,
            planScalar(prop, enums, keyColumns.includes(column)),
          )
        : `column ${column}: not found by the introspection`;
      if (failure) return failure;
    }
    return undefined;
  };
  for (const prop of props) {
    let failure: string | undefined;
    // A unique foreign key, or a key that is also a foreign key (a "subtype" table), is a to-one
    // relation like any other: MikroORM calls it one-to-one.
    if (prop.kind === 'm:1' || prop.kind === '1:1') {
      const relation = planRelation(prop, index, table.foreignKeys?.get(prop.fieldNames.join(',')));
      if (typeof relation === 'string') {
        if (relation === BY_COLUMNS)
          references.push({
            columns: prop.fieldNames,
            targetTable: qualified(prop.referencedTableName),
            referencedColumns: prop.referencedColumnNames,
          });
        else
          skipped.push({
            what: `${table.name}.${prop.name}`,
            why: `${relation}: served as its column${prop.fieldNames.length > 1 ? 's' : ''} ${prop.fieldNames.join(', ')}, not as a relation`,
          });
        failure = asColumns(prop.fieldNames);
      } else {
        failure = add(prop, relation);
      }
    } else if (prop.primary) {
      failure = add(prop, planPrimaryKey(prop, composite, enums));
    } else if (prop.kind === 'scalar') {
      const filledBy = table.triggerFilled?.get(prop.fieldNames[0]!);
      const outcome = planScalar(prop, enums, false, filledBy);
      failure = add(prop, typeof outcome === 'string' || !filledBy ? outcome : { ...outcome, filledBy });
    } else {
      failure = add(prop, `relation of kind ${prop.kind}`);
    }
    if (failure) return failure;
  }
  // A foreign key whose relation name MikroORM gave up on (it would shadow a column of that name)
  // is left without a property in its declaration: its columns are still the table's.
  const unmapped = [...(table.columns?.keys() ?? [])].filter((column) => !mapped.has(column));
  if (unmapped.length > 0) {
    // Those are still references, by their columns.
    for (const fk of table.foreignKeys?.values() ?? [])
      if (fk.columnNames.every((column) => unmapped.includes(column)))
        references.push({
          columns: fk.columnNames,
          targetTable: qualified(fk.referencedTableName),
          referencedColumns: fk.referencedColumnNames,
        });
    const failure = asColumns(unmapped);
    if (failure) return failure;
  }
  // The key's columns first, in the constraint's order: MikroORM declares the key in member order.
  const keyOrder = table.primaryKeyColumns ?? [];
  const position = (member: PlannedMember) =>
    member.primary && member.column ? keyOrder.indexOf(member.column) : keyOrder.length;
  members.sort((a, b) => position(a) - position(b));
  distinctNames(members);
  for (const member of members) nameColumn(member);
  const constraints = tableConstraints(table, members);
  return {
    entity: {
      className: index.classNames.get(tableKey(table))!,
      tableName: table.name,
      schema: table.schema,
      members,
      tableDecorators: constraints.decorators,
      comment: table.meta.comment,
      view: table.view,
      columnReferences: [],
    },
    skipped: [...skipped, ...constraints.skipped],
    references,
  };
}

/**
 * Gives the target of every to-one relation its inverse to-many field, as the demo's entities have
 * them (`customer.invoices` for `invoice.customer`): named after the referring class in the plural,
 * and after the relation too where one name would not say which foreign key it follows (two keys of
 * one table to the same target, or a self-reference: `employeesByReportsTo`, as PostGraphile names
 * them). A name one of the target's members has already gets a number.
 */
function addInverseRelations(entities: PlannedEntity[]) {
  const byClass = new Map(entities.map((entity) => [entity.className, entity]));
  for (const referring of entities) {
    const relations = referring.members.filter((member) => member.uses === 'ToOne');
    for (const relation of relations) {
      const target = byClass.get(relation.target!);
      if (!target) continue;
      const plural = pluralize(lowerFirst(referring.className));
      const ambiguous =
        referring === target || relations.filter((other) => other.target === relation.target).length > 1;
      const base = ambiguous ? `${plural}By${upperFirst(relation.name)}` : plural;
      const taken = new Set(
        target.members.flatMap((m) => (m.uses === 'ToOne' ? [m.name, `${m.name}Id`] : [m.name])),
      );
      let name = base;
      for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
      const variable = lowerFirst(referring.className);
      target.members.push({
        name,
        decorator: `@OneToMany(() => ${referring.className}, (${variable}) => ${variable}.${relation.name})`,
        uses: 'OneToMany',
        type: `Collection<${referring.className}>`,
        optional: false,
        target: referring.className,
        collection: true,
        inverseOf: relation.name,
      });
    }
  }
}

/**
 * Makes each foreign key served as its columns a reference by them (`salesOrderDetail
 * .specialOfferProduct` ↔ `specialOfferProduct.salesOrderDetails`), named after its target and,
 * inversely, after the referring class in the plural, numbered where a name is taken. What cannot be
 * one — a column left out of the API on either side — is said, with the columns still served.
 */
function addColumnReferences(
  entities: PlannedEntity[],
  pending: ReadonlyMap<PlannedEntity, PendingReference[]>,
  index: TableIndex,
): Skipped[] {
  const byClass = new Map(entities.map((entity) => [entity.className, entity]));
  const skipped: Skipped[] = [];
  const served = (entity: PlannedEntity, column: string) =>
    entity.members.find((m) => m.column === column && m.uses !== 'OpaqueColumn')?.name;
  const freeName = (entity: PlannedEntity, base: string) => {
    const taken = new Set([
      ...entity.members.flatMap((m) => (m.uses === 'ToOne' ? [m.name, `${m.name}Id`] : [m.name])),
      ...entity.columnReferences.map((reference) => reference.name),
      ...entities.flatMap((other) =>
        other.columnReferences.filter((r) => r.target === entity.className).map((r) => r.inverse),
      ),
    ]);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
    return name;
  };
  for (const [referring, references] of pending) {
    for (const reference of references) {
      const targetClass = index.classNames.get(reference.targetTable);
      const target = targetClass === undefined ? undefined : byClass.get(targetClass);
      const what = `${referring.tableName}.${reference.columns.join(', ')}`;
      if (!target) {
        skipped.push({
          what,
          why: `refers to ${reference.targetTable}, which is not imported: served as its columns`,
        });
        continue;
      }
      const columns = reference.columns.map((column, i) => [
        served(referring, column),
        served(target, reference.referencedColumns[i]!),
      ]);
      if (columns.some(([own, theirs]) => own === undefined || theirs === undefined)) {
        skipped.push({
          what,
          why: 'a column of the foreign key is not served: served as its columns, not as a relation',
        });
        continue;
      }
      const name = freeName(referring, lowerFirst(target.className));
      const plural = pluralize(lowerFirst(referring.className));
      referring.columnReferences.push({
        name,
        target: target.className,
        columns: columns as [string, string][],
        inverse: '',
      });
      referring.columnReferences.at(-1)!.inverse = freeName(
        target,
        referring === target ? `${plural}By${upperFirst(name)}` : plural,
      );
    }
  }
  for (const entity of entities)
    entity.tableDecorators.push(...entity.columnReferences.map(referenceDecorator));
  return skipped;
}

function referenceDecorator(reference: PlannedColumnReference): string {
  const columns = reference.columns.map(([own, theirs]) => `${own}: ${tsString(theirs)}`).join(', ');
  return `@ReferencesByColumns({ name: ${tsString(reference.name)}, target: () => ${reference.target}, columns: { ${columns} }, inverse: ${tsString(reference.inverse)} })`;
}

/** A column left out of the API, declared with its type as the catalog has it. */
function opaqueMember(prop: EntityProperty): PlannedMember {
  const generated = typeof prop.generated === 'string' ? tsString(prop.generated) : undefined;
  const raw = generated ? undefined : databaseDefault(prop);
  return {
    name: prop.name,
    decorator: `@OpaqueColumn(${options({
      columnType: tsString(columnTypeOf(prop)),
      nullable: prop.nullable ? 'true' : undefined,
      defaultRaw: raw === undefined ? undefined : tsString(String(raw)),
      generated,
      comment: commentOf(prop),
    })})`,
    uses: 'OpaqueColumn',
    type: 'unknown',
    optional: true,
    column: prop.fieldNames[0],
  };
}

/**
 * A name GraphQL and TypeScript both take (`[_A-Za-z][_0-9A-Za-z]*`) for a column MikroORM names as
 * it is quoted in the table (`"Name.Prefix"`, `"unit price"` → `namePrefix`, `unitPrice`).
 */
function fieldNameOf(name: string): string {
  if (/^[_A-Za-z][_0-9A-Za-z]*$/.test(name)) return name;
  const words = name.split(/[^0-9A-Za-z]+/).filter(Boolean);
  const joined = words
    .map((word, i) => (i === 0 ? word.charAt(0).toLowerCase() : word.charAt(0).toUpperCase()) + word.slice(1))
    .join('');
  return /^[A-Za-z_]/.test(joined) ? joined : `_${joined}`;
}

/**
 * Gives each member a name no other member (nor a relation's `<name>Id` field of the API) of the
 * class has, and that GraphQL takes. Columns keep their names, in order; a later column or a relation
 * that would take a name already given gets a number (`team2`).
 */
function distinctNames(members: PlannedMember[]) {
  const taken = new Set<string>();
  const columnsFirst = [
    ...members.filter((m) => m.uses !== 'ToOne'),
    ...members.filter((m) => m.uses === 'ToOne'),
  ];
  for (const member of columnsFirst) {
    const names = (name: string) => (member.uses === 'ToOne' ? [name, `${name}Id`] : [name]);
    member.name = fieldNameOf(member.name);
    let name = member.name;
    for (let n = 2; names(name).some((each) => taken.has(each)); n++) name = `${member.name}${n}`;
    member.name = name;
    for (const each of names(name)) taken.add(each);
  }
}

const naming = new UnderscoreNamingStrategy();

/**
 * Names the member's column in its decorator where MikroORM would not derive it from the member's
 * name (`team2` for the column `team_id`, a column `FullName`): the table is the team's as it is.
 */
function nameColumn(member: PlannedMember) {
  if (!member.column) return;
  // MikroORM names a relation's column after the property and the target's key column
  // (`supportRep` → employee.employee_id: `support_rep_employee_id`).
  const derived =
    member.uses === 'ToOne'
      ? naming.joinKeyColumnName(member.name, member.referencedColumn)
      : naming.propertyToColumnName(member.name);
  if (derived === member.column) return;
  const option = `column: ${tsString(member.column)}`;
  member.decorator = member.decorator.endsWith('()')
    ? `${member.decorator.slice(0, -2)}({ ${option} })`
    : member.decorator.replace(/ \}\)$/, `, ${option} })`);
}

/**
 * The table's indexes, unique constraints and checks as class decorators, named as the database
 * names them, so a migration sees them declared and leaves them be. An index MikroORM describes by
 * properties names the members that map its columns; one it can only describe as SQL keeps its SQL.
 * A foreign key's own index is its relation's (planRelation).
 */
function tableConstraints(
  table: IntrospectedTable,
  members: PlannedMember[],
): { decorators: string[]; skipped: Skipped[] } {
  const memberOfColumn = new Map(members.flatMap((m) => (m.column ? [[m.column, m.name] as const] : [])));
  const relationColumns = new Set(members.filter((m) => m.uses === 'ToOne').map((m) => m.column));
  const decorators: string[] = [];
  const skipped: Skipped[] = [];
  /** The members mapping `properties` (MikroORM's property names of the declaration), if all are mapped. */
  const membersOf = (properties: string[]) => {
    const columns = properties.flatMap((name) => table.meta.properties[name]?.fieldNames ?? [name]);
    const names = columns.map((column) => memberOfColumn.get(column));
    return names.every((name) => name !== undefined) ? names : undefined;
  };
  const declare = (
    kind: 'Index' | 'Unique',
    name: string | undefined,
    properties: string[],
    expression?: string,
    method?: string,
  ) => {
    const named = name ? `name: ${tsString(name)}, ` : '';
    if (expression) return decorators.push(`@${kind}({ ${named}expression: ${tsString(expression)} })`);
    const mapped = membersOf(properties);
    // An index of another access method than btree says which (`gist` on a tsvector).
    const using = method ? `, type: ${tsString(method)}` : '';
    if (mapped)
      return decorators.push(
        `@${kind}({ ${named}properties: [${mapped.map(tsString).join(', ')}]${using} })`,
      );
    return skipped.push({
      what: `${table.name}: ${kind === 'Index' ? 'index' : 'unique constraint'} ${name ?? properties.join(', ')}`,
      why: 'its columns are not all mapped, so it is not declared: a migration would drop it',
    });
  };
  const listOf = (properties: string | string[] | undefined) =>
    properties === undefined ? [] : ([] as string[]).concat(properties);
  // A property's index or unique is its name or `true`; the introspection's expressions are SQL text
  // (callbacks are for hand-written entities).
  const textOf = (value: unknown) => (typeof value === 'string' ? value : undefined);
  for (const prop of Object.values(table.meta.properties) as EntityProperty[]) {
    // A relation's index is declared with its foreign key.
    if (prop.index && !(prop.kind === 'm:1' && relationColumns.has(prop.fieldNames[0])))
      declare('Index', textOf(prop.index), [prop.name]);
    if (prop.unique && !prop.primary) declare('Unique', textOf(prop.unique), [prop.name]);
  }
  for (const index of table.meta.indexes)
    declare(
      'Index',
      index.name,
      listOf(index.properties as string | string[]),
      textOf(index.expression),
      textOf(index.type),
    );
  for (const unique of table.meta.uniques)
    declare('Unique', unique.name, listOf(unique.properties as string | string[]), textOf(unique.expression));
  for (const check of table.meta.checks) {
    if (typeof check.expression !== 'string') continue;
    decorators.push(
      `@Check({ ${check.name ? `name: ${tsString(check.name)}, ` : ''}expression: ${tsString(check.expression)} })`,
    );
  }
  return { decorators, skipped };
}

/**
 * The name of a to-one relation: MikroORM's, which drops a `_id` suffix (`support_rep_id` →
 * `supportRep`), and also drops an `id` suffix that no underscore sets apart
 * (`businessentityid` → `businessentity`): a relation named like its key column reads as an id.
 */
function relationName(prop: EntityProperty): string {
  const column = prop.fieldNames[0]!;
  const likeItsColumn = prop.name.toLowerCase() === column.replace(/_/g, '').toLowerCase();
  return likeItsColumn && /^.+id$/i.test(prop.name) ? prop.name.slice(0, -2) : prop.name;
}

/** A to-one relation, or why the API cannot serve it as one. */
/** planRelation's answer for a foreign key the API serves as a reference by columns instead. */
const BY_COLUMNS = 'by columns';

const qualified = (table: string) => (table.includes('.') ? table : `public.${table}`);

function planRelation(
  prop: EntityProperty,
  index: TableIndex,
  foreignKey: ForeignKey | undefined,
): PlannedMember | string {
  const targetTable = qualified(prop.referencedTableName);
  const target = index.classNames.get(targetTable);
  const targetKey = index.keyColumns.get(targetTable) ?? [];
  if (!target || index.skipped.has(targetTable))
    return `refers to ${prop.referencedTableName}, which is not imported`;
  if (
    prop.fieldNames.length !== 1 ||
    targetKey.length !== 1 ||
    targetKey[0] !== prop.referencedColumnNames[0]
  )
    return BY_COLUMNS;
  const primary = prop.primary ? ', primary: true' : '';
  const nullable = prop.nullable && !prop.primary;
  // MikroORM gives the column the type of the key it refers to; a team's may differ (smallint → int).
  const columnType = prop.columnTypes[0];
  const ownType =
    columnType && columnType !== index.keyTypes.get(targetTable)?.get(targetKey[0]!)
      ? `, columnType: ${tsString(columnType)}`
      : '';
  const comment = prop.comment ? `, comment: ${tsString(prop.comment)}` : '';
  const fallback = databaseDefault(prop);
  const defaultRaw = fallback === undefined ? '' : `, defaultRaw: ${tsString(String(fallback))}`;
  const existing = foreignKey
    ? `, foreignKey: { ${[
        `name: ${tsString(foreignKey.constraintName)}`,
        `onDelete: '${foreignKey.deleteRule ?? 'no action'}'`,
        `onUpdate: '${foreignKey.updateRule ?? 'no action'}'`,
        `index: ${typeof prop.index === 'string' ? tsString(prop.index) : String(Boolean(prop.index))}`,
      ].join(', ')} }`
    : '';
  return {
    name: relationName(prop),
    decorator: `@ToOne(() => ${target}, { nullable: ${nullable ? 'true' : 'false'}${primary}${ownType}${defaultRaw}${comment}${existing} })`,
    uses: 'ToOne',
    type: `Rel<${target}>`,
    optional: nullable ?? false,
    column: prop.fieldNames[0],
    referencedColumn: targetKey[0],
    target,
    primary: Boolean(prop.primary),
  };
}
