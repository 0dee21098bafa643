import { type EntityManager } from '@mikro-orm/postgresql';
import { appliedRuleLabels, visibleRowsSql } from '../../security/system/row-security.js';
import {
  allOf,
  atomic,
  compileSql,
  type RowSql,
  sql,
  type SqlFragment,
  tableSql,
} from '../../security/system/sql-fragment.js';
import { selectBound } from '../db/bound-query.js';
import { withStatementAttributes } from '../tracing.js';
import { REQUEST_WORK_MEM, SERVER_WORK_MEM, setLocal } from '../db/request-transaction.js';
import { aggregateJson, type AggregateSelection, COUNT } from './aggregates.js';
import { type GroupKey } from './aggregate-arguments.js';
import { answerJson, columnJson, nonNullChecked } from './column-types.js';
import { type EntityModel, type ToManyModel } from './entity-model.js';
import { toManyLink, toOneLink } from './relation-links.js';
import { SortDirection } from './inputs/entity-inputs.js';
import { type OrderTerm } from './query-arguments.js';
import {
  type AnswerField,
  type ConnectionPlan,
  type ReadPlan,
  type Refusals,
  type RelationRead,
  type RootPlan,
} from './read-plan.js';
import { type ConnectionPage, POSITION } from './connection-arguments.js';
import { afterSql, beforeSql, positionSql, reversed } from './keyset.js';
import { jsonObjectSql } from './json-object.js';
import { type Statement } from './statement.js';

type Row = Record<string, unknown>;

/** The root rows of a read: its condition, order and page (all translated and checked already). */
export interface RootRead {
  where?: RowSql;
  orderBy?: OrderTerm[];
  limit?: number;
  offset?: number;
}

/** The groups of a group-by: translated and checked already. */
export interface GroupRead {
  where?: RowSql;
  keys: GroupKey[];
  having?: RowSql;
  orderBy: OrderTerm[];
  limit: number;
  offset: number;
  selection: AggregateSelection;
}

/** What one level of a read selects its rows by, besides the request's row security. */
interface Selection {
  /** Instead of the entity's table: a subquery of its rows, aliased as the level's row. */
  from?: SqlFragment;
  where?: (SqlFragment | undefined)[];
  /** Rows grouped by these values, the groups kept where `having` holds (of a group-by's rows). */
  groupBy?: SqlFragment[];
  having?: SqlFragment;
  orderBy?: OrderTerm[];
  limit?: number;
  offset?: number;
  /** A relation whose rows the enclosing query read through their own predicate (RowAccess.rowSql). */
  parentsVisibleThrough?: string;
}

/**
 * Reads the rows of a plan in ONE statement, as PostGraphile and Hasura do: each row is built as
 * JSON in PostgreSQL, its to-one relations as correlated subqueries and its to-many relations as
 * `array(select … order by … limit …)` per parent. The statement is composed from SQL fragments
 * (security/system/sql-fragment.ts) and compiled once; every level carries the request's row security
 * (grants, global filters, scopes: `visibleRowsSql`, the condition the security filter gives every
 * other read of the request), so each entity's row predicate holds wherever it appears, and the
 * database's policies still apply underneath. Values from the client reach SQL only as parameters;
 * the rows come back as plain objects, never as tracked entities.
 */
export class CompiledRead {
  private aliases = 0;

  /** The entities the statements built so far read (`select`), for `Statement.entities`. */
  private readonly entitiesRead = new Set<string>();

  private readonly em: EntityManager;

  /**
   * `emInTime`: the request's EntityManager, which throws once the request is past its deadline;
   * `deadline` cancels the statement in PostgreSQL when it fires.
   */
  constructor(
    private readonly emInTime: () => EntityManager,
    private readonly deadline: AbortSignal,
  ) {
    this.em = emInTime();
  }

  /**
   * The statement that reads the rows of `plan` (see `rows`): one JSON array of them, in their order,
   * as the to-many relations are read, so the driver parses one value instead of a row per row.
   */
  rowsStatement(plan: RootPlan, root: RootRead): Statement {
    const rows = this.rootRows(plan, root, (alias) => this.rowJson(plan, alias));
    const statement = this.compiled(sql`select to_json(array(${rows})) as "rows"`);
    return plan.refusals.size > 0 ? { ...statement, refusals: plan.refusals } : statement;
  }

  /**
   * The statement of a root field's answer (`plan.answer`, read-plan.ts): its rows as the response
   * writes them, one JSON text that the response takes as it is (src/http/response-splices.ts) — no
   * parsing, completing or serialising of the rows in the gateway. The rows are `rowsStatement`'s.
   */
  answerStatement(plan: RootPlan & { answer: AnswerField[] }, root: RootRead): Statement {
    const rows = this.rootRows(plan, root, (alias) => this.answerRow(plan, alias));
    return { ...this.compiled(sql`select to_json(array(${rows}))::text as "rows"`), answer: true };
  }

  /** A statement of this read: its SQL, and the entities it reads (for traces). */
  private compiled(fragment: SqlFragment): Statement {
    return { ...compileSql(fragment), entities: [...this.entitiesRead] };
  }

  /** `select <value> …` of the root rows of a read, each row's value made by `value` of its alias. */
  private rootRows(plan: RootPlan, root: RootRead, value: (alias: string) => SqlFragment): SqlFragment {
    const alias = this.nextAlias();
    return this.select(plan.model, alias, value(alias), {
      where: [root.where?.(alias)],
      orderBy: root.orderBy,
      limit: root.limit,
      offset: root.offset,
    });
  }

  /** The JSON text a statement of `answerStatement` reads. */
  async answer(statement: Statement): Promise<string> {
    const [result] = await this.run<{ rows: string }>(statement);
    return result!.rows;
  }

  /** The rows a statement of `rowsStatement` reads, as plain objects. */
  async rows(statement: Statement): Promise<Row[]> {
    const [result] = await this.run<{ rows: Row[] }>(statement);
    return result!.rows;
  }

  /**
   * The statement that counts the rows of `model` matching `where` and the request's row filters;
   * `throughScope`: those filters check each row's parent (RequestSecurity.throughScope).
   */
  countStatement(model: EntityModel, where: RowSql | undefined, throughScope: boolean): Statement {
    const alias = this.nextAlias();
    const count = this.select(model, alias, sql`${COUNT} as "value"`, { where: [where?.(alias)] });
    return { ...this.compiled(count), countsThroughScope: throughScope };
  }

  /** The statement of an aggregate over the rows of `model` matching `where`, as `countStatement`'s. */
  aggregateStatement(
    model: EntityModel,
    where: RowSql | undefined,
    selection: AggregateSelection,
    throughScope: boolean,
  ): Statement {
    const alias = this.nextAlias();
    const value = jsonObjectSql(aggregateJson(selection, alias));
    const aggregate = this.select(model, alias, sql`${value} as "value"`, { where: [where?.(alias)] });
    return { ...this.compiled(aggregate), countsThroughScope: throughScope };
  }

  /**
   * The statement of a group-by: one JSON array of `{key, count, sum…}` per group of the rows of
   * `model` that match `where` and the request's row filters, in the groups' order, paged.
   */
  groupsStatement(model: EntityModel, groups: GroupRead, throughScope: boolean): Statement {
    // The rows with their keys, under the row security; then their groups. A key is computed once per
    // row: a relation id as the caller sees it holds a subquery, and PostgreSQL does not take two
    // subqueries for one expression, in the select list and in group by.
    const rowsAlias = this.nextAlias();
    const keyed = sql.join([
      sql`${sql.id(rowsAlias)}.*`,
      ...groups.keys.map((key) => sql`${key.value(rowsAlias)} as ${sql.id(key.column)}`),
    ]);
    const rows = this.select(model, rowsAlias, keyed, { where: [groups.where?.(rowsAlias)] });
    const alias = this.nextAlias();
    const key = jsonObjectSql(groups.keys.map((each) => [each.field, each.json(sql.id(alias, each.column))]));
    const value = jsonObjectSql([['key', key], ...aggregateJson(groups.selection, alias)]);
    const grouped = this.query(value, sql`(${rows})`, alias, [], {
      groupBy: groups.keys.map((each) => sql.id(alias, each.column)),
      having: groups.having?.(alias),
      orderBy: groups.orderBy,
      limit: groups.limit,
      offset: groups.offset,
    });
    return {
      ...this.compiled(sql`select to_json(array(${grouped})) as "value"`),
      countsThroughScope: throughScope,
    };
  }

  /**
   * The statement of a root connection (see `connectionJson`): one JSON value, `ConnectionRows`. Its
   * `totalCount` visits every matching row, as a count does (`throughScope`: see `scan`).
   */
  connectionStatement(
    model: EntityModel,
    plan: ConnectionPlan & { refusals: Refusals },
    page: ConnectionPage,
    throughScope: boolean,
  ): Statement {
    const value = this.connectionJson(plan, page, (value, selection) => {
      const alias = this.nextAlias();
      return this.select(model, alias, value(alias), selection(alias));
    });
    const statement: Statement = {
      ...this.compiled(sql`select ${value} as "value"`),
      countsThroughScope: plan.totalCount && throughScope,
    };
    return plan.refusals.size > 0 ? { ...statement, refusals: plan.refusals } : statement;
  }

  /**
   * `{rows, totalCount, beyond}` of a connection's page (connection-arguments.ts ConnectionRows):
   * the page's rows, one more than it holds, in its order (from the end for `last`, read backwards),
   * each with its position; the count of all rows matching where, if asked for; and, for the page
   * info, whether rows lie on the far side of the cursor the page starts from. `rowsOf` selects each
   * part from the connection's rows (a table, or a parent's related rows) under the row security.
   */
  private connectionJson(
    plan: ConnectionPlan,
    page: ConnectionPage,
    rowsOf: (value: RowSql, selection: (alias: string) => Selection) => SqlFragment,
  ): SqlFragment {
    const within = (alias: string, ...more: (RowSql | undefined)[]) => [
      page.where?.(alias),
      ...more.map((condition) => condition?.(alias)),
    ];
    const after = page.after && afterSql(page.order, page.after);
    const before = page.before && beforeSql(page.order, page.before);
    const rows = rowsOf(
      (alias) => this.rowJson(plan.node, alias, [[POSITION, positionSql(page.order, alias)]]),
      (alias) => ({
        where: within(alias, after, before),
        orderBy: page.backward ? reversed(page.order) : page.order,
        limit: page.count + 1,
      }),
    );
    const parts: [string, SqlFragment][] = [['rows', sql`to_json(array(${rows}))`]];
    if (plan.totalCount)
      parts.push([
        'totalCount',
        sql`(${rowsOf(
          () => COUNT,
          (alias) => ({ where: within(alias) }),
        )})`,
      ]);
    // The far side of the page's starting cursor: rows at or before `after` (at or after `before`),
    // which only the page info's hasPreviousPage (hasNextPage, read backwards) tells.
    const start = page.backward ? before : after;
    if (start && plan.pageInfo.has(page.backward ? 'hasNextPage' : 'hasPreviousPage')) {
      const notBeyond: RowSql = (row) => atomic(sql`not ${start(row)}`);
      parts.push([
        'beyond',
        sql`exists (${rowsOf(
          () => sql`1`,
          (alias) => ({ where: within(alias, notBeyond) }),
        )})`,
      ]);
    }
    return jsonObjectSql(parts);
  }

  /**
   * The one value a statement of `countStatement`, `aggregateStatement`, `groupsStatement` or
   * `connectionStatement` reads. Most visit every matching row: through a scope, hashing the visible
   * parents once beats a look-up per row, and the request's small work_mem
   * (src/db/request-transaction.ts) forbids that hash for a large parent set (a tenant's 150 000
   * orders: 0.5 s → 1-2 s). So the server's own work_mem for this statement, and the request's again
   * after it, for the reads that may follow (settings of the transaction's framing, sent with the
   * statements: no round trip of their own).
   */
  async scan<T>(statement: Statement): Promise<T> {
    if (!statement.countsThroughScope || !this.em.isInTransaction())
      return (await this.run<{ value: T }>(statement))[0]!.value;
    await selectBound(this.em, { sql: SERVER_WORK_MEM, params: [] }, this.deadline);
    const [row] = await this.run<{ value: T }>(statement);
    // Not after a failure: the transaction is rolled back then, or the request is out of time.
    await setLocal(this.em, [['work_mem', REQUEST_WORK_MEM]]);
    return row!.value;
  }

  private async run<T>(statement: Statement): Promise<T[]> {
    const rows = await withStatementAttributes(
      () => ({ 'grantgate.rules': appliedRuleLabels(this.em, statement.entities ?? []) }),
      () => selectBound<T>(this.em, statement, this.deadline),
    );
    // A statement that came back past the deadline is not answered: the request has failed by then.
    this.emInTime();
    return rows;
  }

  /**
   * `select <value> from <model's table> as <alias> where … order by … limit … offset …`: the only way
   * this module reads a table, so that no level goes without the request's row security, which is
   * the last condition of every level.
   */
  private select(model: EntityModel, alias: string, value: SqlFragment, selection: Selection): SqlFragment {
    this.entitiesRead.add(model.name);
    const security = visibleRowsSql(this.em, model.name, alias, selection.parentsVisibleThrough);
    const conditions = [...(selection.where ?? []), security].filter(
      (condition): condition is SqlFragment => condition !== undefined,
    );
    return this.query(value, selection.from ?? tableSql(model.table), alias, conditions, selection);
  }

  /**
   * The clauses of a select from `from` aliased `alias`: by `select` for a table's rows, or of rows a
   * `select` read (a group-by's).
   */
  private query(
    value: SqlFragment,
    from: SqlFragment,
    alias: string,
    conditions: SqlFragment[],
    selection: Selection,
  ): SqlFragment {
    const clauses: SqlFragment[] = [sql`select ${value} from ${from} as ${sql.id(alias)}`];
    if (conditions.length > 0) clauses.push(sql`where ${allOf(conditions)}`);
    if (selection.groupBy) clauses.push(sql`group by ${sql.join(selection.groupBy)}`);
    if (selection.having) clauses.push(sql`having ${selection.having}`);
    if (selection.orderBy?.length) {
      const terms = selection.orderBy.map(
        (term) => sql`${term.key(alias)} ${term.direction === SortDirection.DESC ? sql`desc` : sql`asc`}`,
      );
      clauses.push(sql`order by ${sql.join(terms)}`);
    }
    if (selection.limit !== undefined) clauses.push(sql`limit ${selection.limit}`);
    if (selection.offset) clauses.push(sql`offset ${selection.offset}`);
    return sql.join(clauses, sql` `);
  }

  private nextAlias() {
    return `g${this.aliases++}`;
  }

  /** `json_build_object('field', <column>, '@relation', (<subquery>), …)` for the row aliased `alias`. */
  private rowJson(plan: ReadPlan, alias: string, extra: [string, SqlFragment][] = []): SqlFragment {
    return jsonObjectSql([
      ...extra,
      ...plan.columns.map(
        (column) => [column.name, columnJson(column, sql.id(alias, column.columnName))] as const,
      ),
      ...plan.relations.map(
        (relation) => [relation.key, sql`(${this.relationJson(plan.model, alias, relation)})`] as const,
      ),
    ]);
  }

  /**
   * The row aliased `alias` as the response writes it (`plan.answer`): its fields in the response's
   * order under their response keys, each value as the response writes it. row_to_json writes compact
   * JSON in the order of its columns, as JSON.stringify does (json_build_object puts spaces around).
   */
  private answerRow(plan: ReadPlan, alias: string): SqlFragment {
    const nonNull: SqlFragment[] = [];
    const fields = plan.answer!.map((field) => {
      let value: SqlFragment;
      if ('typename' in field) value = sql`${field.typename}::text`;
      else if ('column' in field) {
        const column = sql.id(alias, field.column.columnName);
        if (field.nonNull) nonNull.push(column);
        value = answerJson(field.column, column, field.asId);
      } else value = sql`(${this.relationJson(plan.model, alias, field.relation, true)})`;
      return sql`${value} as ${sql.id(field.key)}`;
    });
    // `.*`: the whole row, even where a response key names a column `answer` as well.
    const answer = this.nextAlias();
    return nonNullChecked(
      sql`(select row_to_json(${sql.id(answer)}.*) from (select ${sql.join(fields)}) as ${sql.id(answer)})`,
      nonNull,
    );
  }

  /** A relation's value with its parent row: rows of `rowJson`, or of `answerRow` for an answer. */
  private relationJson(
    parent: EntityModel,
    parentAlias: string,
    relation: RelationRead,
    answer = false,
  ): SqlFragment {
    if ('count' in relation) return this.countJson(parent, parentAlias, relation.count, relation.where);
    if ('connection' in relation) {
      const { connection, page, plan } = relation;
      return this.connectionJson(plan, page, (value, selection) => {
        const alias = this.nextAlias();
        return this.children(parent, parentAlias, connection, alias, value(alias), selection(alias));
      });
    }
    const alias = this.nextAlias();
    if ('aggregate' in relation)
      return this.children(
        parent,
        parentAlias,
        relation.aggregate,
        alias,
        jsonObjectSql(aggregateJson(relation.selection, alias)),
        { where: [relation.where?.(alias)] },
      );
    const target = relation.plan.model;
    const row = answer ? this.answerRow(relation.plan, alias) : this.rowJson(relation.plan, alias);
    if ('toOne' in relation) {
      // The related row by its key, if this user may see it: a hidden one reads as null. The key
      // look-up stands alone behind an optimisation fence (a `limit`, which PostgreSQL never pulls up
      // into the query around it), so PostgreSQL takes the key's index rather than an index of the row
      // filter (a tenant's rows, scanned for every row). The key is unique: a limit of 2 changes no
      // answer, and more than one row would still be the error it always was.
      const byKey = this.nextAlias();
      const match = toOneLink(parent, parentAlias, relation.toOne, byKey);
      const from = sql`(select * from ${tableSql(target.table)} as ${sql.id(byKey)} where ${match} limit 2)`;
      return this.select(target, alias, row, { from });
    }
    const { toMany, page } = relation;
    if (page.limit === 0) return sql`'[]'::json`;
    const children = this.children(parent, parentAlias, toMany, alias, row, {
      where: [page.where?.(alias)],
      orderBy: page.orderBy,
      limit: page.limit,
      offset: page.offset,
    });
    return sql`to_json(array(${children}))`;
  }

  /** How many rows of a to-many relation of the parent match `where` and the request's row filters. */
  private countJson(
    parent: EntityModel,
    parentAlias: string,
    toMany: ToManyModel,
    where: RowSql | undefined,
  ): SqlFragment {
    const alias = this.nextAlias();
    return this.children(parent, parentAlias, toMany, alias, COUNT, {
      where: [where?.(alias)],
    });
  }

  /**
   * `select <value>` from the rows of a to-many relation of the parent row aliased `parentAlias`
   * (through its join table, if it has one), selected by `selection`, under the request's row filters.
   */
  private children(
    parent: EntityModel,
    parentAlias: string,
    toMany: ToManyModel,
    alias: string,
    value: SqlFragment,
    selection: Selection,
  ): SqlFragment {
    const link = toManyLink(parent, parentAlias, toMany, alias, (pivot, pivotValue, condition) => {
      const pivotAlias = this.nextAlias();
      // The join table refers to the parent: its scope through that relation need not be checked again.
      return this.select(pivot, pivotAlias, pivotValue(pivotAlias), {
        where: [condition(pivotAlias)],
        parentsVisibleThrough: toMany.mappedBy,
      });
    });
    return this.select(toMany.target, alias, value, {
      ...selection,
      where: [...(selection.where ?? []), link],
      // The parent row passed its own predicate in the enclosing query: the children's scope
      // through it need not be checked again (every other rule still applies). Through a join
      // table, or by columns outside MikroORM's relations, the children do not refer to the parent as
      // a scope sees it: their rules all apply.
      parentsVisibleThrough: toMany.through || toMany.byColumns ? undefined : toMany.mappedBy,
    });
  }
}
