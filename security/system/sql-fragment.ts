import { createQueryId, PostgresQueryCompiler, type RawBuilder, sql } from 'kysely';

/**
 * SQL as grantgate builds it: Kysely's `sql` template, whose identifiers (`sql.id`), constants
 * (`sql.lit`) and values (`${value}`, bound as parameters) are quoted or bound where they are put, and
 * whose fragments nest. Statements are composed from fragments and compiled once; rendered SQL is
 * never searched or edited as text.
 */
export type SqlFragment = RawBuilder<unknown>;

export { sql };

/**
 * Fragments that bind tighter than `and` and `or` (a comparison, `not …`, something parenthesised):
 * `allOf` and `anyOf` put them in as they are and parenthesise every other part.
 */
const whole = new WeakSet<SqlFragment>();

/** `fragment`, marked as binding tighter than `and` and `or`. */
export function atomic(fragment: SqlFragment): SqlFragment {
  whole.add(fragment);
  return fragment;
}

export const TRUE: SqlFragment = atomic(sql`true`);
export const FALSE: SqlFragment = atomic(sql`false`);

/** SQL text and the values bound to its placeholders, in order. */
export interface CompiledSql {
  sql: string;
  params: readonly unknown[];
}

/** MikroORM's raw fragments take `?` placeholders (its query builder numbers them). */
class QuestionMarkCompiler extends PostgresQueryCompiler {
  protected override getCurrentParameterPlaceholder(): string {
    return '?';
  }
}

const compile = (compiler: PostgresQueryCompiler, fragment: SqlFragment): CompiledSql => {
  const { sql: text, parameters } = compiler.compileQuery(
    fragment.toOperationNode() as never,
    createQueryId(),
  );
  return { sql: text, params: parameters };
};

/** The fragment as PostgreSQL is sent it: `$1, $2, …` and their values. */
export const compileSql = (fragment: SqlFragment): CompiledSql =>
  compile(new PostgresQueryCompiler(), fragment);

/** The fragment with `?` placeholders, for a MikroORM `raw()` condition. */
export const compileForMikroOrm = (fragment: SqlFragment): CompiledSql =>
  compile(new QuestionMarkCompiler(), fragment);

/** The fragment as text without parameters (a policy, which has none); a value in it is a bug. */
export function compileConstant(fragment: SqlFragment): string {
  const { sql: text, params } = compileSql(fragment);
  if (params.length > 0) throw new Error(`SQL meant to be constant has ${params.length} parameters: ${text}`);
  return text;
}

/** `(fragment)`: a condition kept whole wherever it is put. */
export const parenthesised = (fragment: SqlFragment): SqlFragment =>
  whole.has(fragment) ? fragment : atomic(sql`(${fragment})`);

/** An entity's table: schema-qualified when its entity names a schema. */
export const tableSql = (meta: { schema?: string; tableName: string }): SqlFragment =>
  meta.schema ? sql.id(meta.schema, meta.tableName) : sql.id(meta.tableName);

/**
 * `parts` joined by `or` or `and`, the whole parenthesised and each part too unless it is `atomic`,
 * so that no part's own `or` can bind to its neighbour's condition (`a or b and <row security>`);
 * a single part as it is.
 */
const joined = (parts: readonly SqlFragment[], separator: SqlFragment): SqlFragment =>
  parts.length === 1 ? parts[0]! : atomic(sql`(${sql.join(parts.map(parenthesised), separator)})`);

/** `parts` joined by `and` (true when there are none). */
export const allOf = (parts: readonly SqlFragment[]): SqlFragment =>
  parts.length === 0 ? TRUE : joined(parts, sql` and `);

/** `parts` joined by `or` (false when there are none). */
export const anyOf = (parts: readonly SqlFragment[]): SqlFragment =>
  parts.length === 0 ? FALSE : joined(parts, sql` or `);

/** SQL on a row of a query, given the row's alias: a condition on it, or a value of it. */
export type RowSql = (row: string) => SqlFragment;
