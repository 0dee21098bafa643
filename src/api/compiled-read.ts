import {
  type EntityMetadata,
  type EntityName,
  type FilterOptions,
  type FilterQuery,
  type QueryOrderMap,
  raw,
} from '@mikro-orm/core';
import { type EntityManager, type QueryBuilder } from '@mikro-orm/postgresql';
import { selectBound } from '../db/bound-query.js';
import { REQUEST_WORK_MEM, SERVER_WORK_MEM, setLocal } from '../db/request-transaction.js';
import { childrenOfVisibleParents } from '../../security/system/row-security.js';
import { columnJson } from './column-types.js';
import { type EntityModel, primaryKeyOf, type ToManyModel } from './entity-model.js';
import { type ReadPlan, type RelationRead } from './read-plan.js';
import { type Fragment, type Statement } from './statement.js';

type Row = Record<string, unknown>;

/** The root rows of a read: its condition, order and page (all translated and checked already). */
export interface RootRead {
  where: FilterQuery<object>;
  orderBy?: QueryOrderMap<object>[];
  limit?: number;
  offset?: number;
}

/** Stands for the selected value until the builder has rendered its statement. */
const VALUE_MARKER = '__compiled_read_value__';

/** PostgreSQL's json_build_object takes at most 100 arguments: 50 keys with their values. */
const MAX_PAIRS = 50;

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/**
 * Reads the rows of a plan in ONE statement, as PostGraphile and Hasura do: each row is built as
 * JSON in PostgreSQL, its to-one relations as correlated subqueries and its to-many relations as
 * `array(select … order by … limit …)` per parent. Every level is a MikroORM query builder with the
 * request's filters applied (grants, global filters, scopes: the security model's predicate), so
 * each entity's row predicate holds wherever it appears, and the database's policies still apply
 * underneath. Values from the client reach SQL only as parameters; the rows come back as plain
 * objects, never as tracked entities.
 */
export class CompiledRead {
  private aliases = 0;

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
  async rowsStatement(plan: ReadPlan, root: RootRead): Promise<Statement> {
    const alias = this.nextAlias();
    const row = await this.rowJson(plan, alias);
    const rows = await this.select(plan.model, alias, row, (qb) => {
      qb.where(root.where as never);
      if (root.orderBy) qb.orderBy(root.orderBy as never);
      if (root.limit !== undefined) qb.limit(root.limit, root.offset ?? 0);
    });
    return { sql: `select to_json(array(${rows.sql})) as "rows"`, params: rows.params };
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
  async countStatement(
    model: EntityModel,
    where: FilterQuery<object>,
    throughScope: boolean,
  ): Promise<Statement> {
    const statement = await this.select(
      model,
      this.nextAlias(),
      { sql: 'count(*)::int as "count"', params: [] },
      (qb) => qb.where(where as never),
    );
    return { ...statement, countsThroughScope: throughScope };
  }

  /** How many rows a statement of `countStatement` counts: one prepared statement. */
  async count(statement: Statement): Promise<number> {
    // A count visits every matching row: through a scope, hashing the visible parents once beats a
    // look-up per row, and the request's small work_mem (src/db/request-transaction.ts) forbids that
    // hash for a large parent set (a tenant's 150 000 orders: 0.5 s → 1-2 s). So the server's own
    // work_mem for this statement, and the request's again after it, for the reads that may follow
    // (settings of the transaction's framing, sent with the statements: no round trip of their own).
    if (!statement.countsThroughScope || !this.em.isInTransaction())
      return (await this.run<{ count: number }>(statement))[0]!.count;
    await selectBound(this.em, SERVER_WORK_MEM, [], this.deadline);
    const [row] = await this.run<{ count: number }>(statement);
    // Not after a failure: the transaction is rolled back then, or the request is out of time.
    await setLocal(this.em, [['work_mem', REQUEST_WORK_MEM]]);
    return row!.count;
  }

  private async run<T>(statement: Fragment): Promise<T[]> {
    const rows = await selectBound<T>(this.em, statement.sql, statement.params, this.deadline);
    // A statement that came back past the deadline is not answered: the request has failed by then.
    this.emInTime();
    return rows;
  }

  /**
   * `select <value> from <model> as <alias> where …` as SQL with placeholders. The only way this
   * module makes a query builder: `build` shapes it, then the request's row filters are added to its
   * condition (with `filterOptions`) before it is rendered. `value` goes in as SQL text with its own
   * parameters (a select list would inline them as literals): in place of a marker that the select
   * list starts with, its parameters ahead of the builder's own.
   */
  private async select(
    model: EntityModel,
    alias: string,
    value: Fragment,
    build: (qb: QueryBuilder<object>) => void,
    filterOptions?: FilterOptions,
  ): Promise<Fragment> {
    // eslint-disable-next-line no-restricted-syntax -- applyFilters() is called on it before it is rendered
    const qb = this.em.createQueryBuilder(model.cls as EntityName<object>, alias) as QueryBuilder<object>;
    qb.select(raw(VALUE_MARKER));
    build(qb);
    await qb.applyFilters(filterOptions);
    const { sql, params } = qb.toQuery();
    const at = sql.indexOf(VALUE_MARKER);
    if (at < 0 || sql.lastIndexOf('?', at) >= 0) throw new Error('compiled read: unexpected select list');
    return {
      sql: sql.slice(0, at) + value.sql + sql.slice(at + VALUE_MARKER.length),
      params: [...value.params, ...params],
    };
  }

  /**
   * `<target key> in (select <pivot.toTarget> from <pivot> where <pivot.fromParent> = <parent key>)`:
   * the rows related to the parent through a join table, whose own rows pass its row predicate (a
   * link the user may not see relates nothing). The join table refers to the parent, so its scope
   * through that relation need not be checked again.
   */
  private async throughPivot(
    through: NonNullable<ToManyModel['through']>,
    fromParent: string,
    parentKey: string,
    target: EntityModel,
    targetAlias: string,
  ): Promise<Fragment> {
    const alias = this.nextAlias();
    const links = await this.select(
      through.pivot,
      alias,
      { sql: this.column(through.pivot, alias, through.toTarget), params: [] },
      (qb) => qb.where(raw(`${this.column(through.pivot, alias, fromParent)} = ${parentKey}`)),
      childrenOfVisibleParents(this.em, fromParent),
    );
    return {
      sql: `${this.column(target, targetAlias, primaryKeyOf(target).name)} in (${links.sql})`,
      params: links.params,
    };
  }

  private nextAlias() {
    return `g${this.aliases++}`;
  }

  private metadata(model: EntityModel): EntityMetadata {
    return this.em.getMetadata().get(model.cls);
  }

  private column(model: EntityModel, alias: string, property: string): string {
    return `${alias}.${quote(this.metadata(model).properties[property as never]!.fieldNames[0]!)}`;
  }

  /** `json_build_object('field', <column>, '@relation', (<subquery>), …)` for the row aliased `alias`. */
  private async rowJson(plan: ReadPlan, alias: string): Promise<Fragment> {
    const pairs: Fragment[] = plan.columns.map((column) => ({
      sql: `?::text, ${columnJson(column, this.column(plan.model, alias, column.name))}`,
      params: [column.name],
    }));
    for (const relation of plan.relations) {
      const value = await this.relationJson(plan.model, alias, relation);
      pairs.push({ sql: `?::text, (${value.sql})`, params: [relation.key, ...value.params] });
    }
    const objects: Fragment[] = [];
    for (let start = 0; start === 0 || start < pairs.length; start += MAX_PAIRS) {
      const chunk = pairs.slice(start, start + MAX_PAIRS);
      objects.push({
        sql: `json_build_object(${chunk.map((pair) => pair.sql).join(', ')})`,
        params: chunk.flatMap((pair) => pair.params),
      });
    }
    if (objects.length === 1) return objects[0]!;
    return {
      sql: `(${objects.map((object) => `${object.sql}::jsonb`).join(' || ')})::json`,
      params: objects.flatMap((object) => object.params),
    };
  }

  private async relationJson(
    parent: EntityModel,
    parentAlias: string,
    relation: RelationRead,
  ): Promise<Fragment> {
    if ('count' in relation) return this.countJson(parent, parentAlias, relation.count, relation.where);
    const alias = this.nextAlias();
    const target = relation.plan.model;
    const row = await this.rowJson(relation.plan, alias);
    if ('toOne' in relation) {
      // The related row by its key, if this user may see it: a hidden one reads as null. The key
      // look-up stands alone behind an optimisation fence (a `limit`, which PostgreSQL never pulls up
      // into the query around it), so PostgreSQL takes the key's index rather than an index of the row
      // filter (a tenant's rows, scanned for every row). The key is unique: a limit of 2 changes no
      // answer, and more than one row would still be the error it always was.
      const byKeyAlias = this.nextAlias();
      const pairs = relation.toOne.byColumns ?? [[relation.toOne.name, primaryKeyOf(target).name]];
      const matches = pairs.map(
        ([own, theirs]) =>
          `${this.column(target, byKeyAlias, theirs)} = ${this.column(parent, parentAlias, own)}`,
      );
      const byKey =
        // eslint-disable-next-line no-restricted-syntax -- its rows pass the request's filters in `select`
        (this.em.createQueryBuilder(target.cls as EntityName<object>, byKeyAlias) as QueryBuilder<object>)
          .select('*')
          .where(raw(matches.join(' and ')))
          .limit(2);
      return this.select(target, alias, row, (qb) => qb.from(byKey, alias));
    }
    const { toMany, page } = relation;
    if (page.limit === 0) return { sql: `'[]'::json`, params: [] };
    const children = await this.children(parent, parentAlias, toMany, alias, row, (qb) =>
      qb
        .where(page.where as never)
        .orderBy(page.orderBy as never)
        .limit(page.limit, page.offset),
    );
    return { sql: `to_json(array(${children.sql}))`, params: children.params };
  }

  /** How many rows of a to-many relation of the parent match `where` and the request's row filters. */
  private countJson(
    parent: EntityModel,
    parentAlias: string,
    toMany: ToManyModel,
    where: FilterQuery<object>,
  ): Promise<Fragment> {
    return this.children(
      parent,
      parentAlias,
      toMany,
      this.nextAlias(),
      { sql: 'count(*)::int', params: [] },
      (qb) => qb.where(where as never),
    );
  }

  /**
   * `select <value>` from the rows of a to-many relation of the parent row aliased `parentAlias`
   * (through its join table, if it has one), shaped by `build`, under the request's row filters.
   */
  private async children(
    parent: EntityModel,
    parentAlias: string,
    toMany: ToManyModel,
    alias: string,
    value: Fragment,
    build: (qb: QueryBuilder<object>) => void,
  ): Promise<Fragment> {
    const target = toMany.target;
    const parentKey = this.column(parent, parentAlias, primaryKeyOf(parent).name);
    const pairs = toMany.byColumns ?? [[primaryKeyOf(parent).name, toMany.mappedBy]];
    const link = toMany.through
      ? await this.throughPivot(toMany.through, toMany.mappedBy, parentKey, target, alias)
      : {
          sql: pairs
            .map(
              ([own, theirs]) =>
                `${this.column(target, alias, theirs)} = ${this.column(parent, parentAlias, own)}`,
            )
            .join(' and '),
          params: [],
        };
    return this.select(
      target,
      alias,
      value,
      (qb) => {
        build(qb);
        qb.andWhere(raw(link.sql, [...link.params]));
      },
      // The parent row passed its own predicate in the enclosing query: the children's scope
      // through it need not be checked again (every other rule still applies). Through a join
      // table, or by columns outside MikroORM's relations, the children do not refer to the parent as
      // a scope sees it: their rules all apply.
      toMany.through || toMany.byColumns ? undefined : childrenOfVisibleParents(this.em, toMany.mappedBy),
    );
  }
}
