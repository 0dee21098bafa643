import { createQueryId, PostgresQueryCompiler, type RawBuilder, sql } from 'kysely';

/**
 * SQL as grantgate builds it: Kysely's `sql` template, whose identifiers (`sql.id`), constants
 * (`sql.lit`) and values (`${value}`, bound as parameters) are quoted or bound where they are put, and
 * whose fragments nest. Statements are composed from fragments and compiled once; rendered SQL is
 * never searched or edited as text.
 */
export type SqlFragment = RawBuilder<unknown>;

export { sql };

export const TRUE: SqlFragment = sql`true`;
export const FALSE: SqlFragment = sql`false`;

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

/** An entity's table: schema-qualified when its entity names a schema. */
export const tableSql = (meta: { schema?: string; tableName: string }): SqlFragment =>
  meta.schema ? sql.id(meta.schema, meta.tableName) : sql.id(meta.tableName);

/** `parts` joined by `and` (true when there are none); each part is parenthesised. */
export const allOf = (parts: readonly SqlFragment[]): SqlFragment =>
  parts.length === 0 ? TRUE : parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` and `)})`;

/** `parts` joined by `or` (false when there are none). */
export const anyOf = (parts: readonly SqlFragment[]): SqlFragment =>
  parts.length === 0 ? FALSE : parts.length === 1 ? parts[0]! : sql`(${sql.join(parts, sql` or `)})`;

/** SQL on a row of a query, given the row's alias: a condition on it, or a value of it. */
export type RowSql = (row: string) => SqlFragment;

/** `(fragment)`: a condition kept whole wherever it is put. */
export const parenthesised = (fragment: SqlFragment): SqlFragment => sql`(${fragment})`;
