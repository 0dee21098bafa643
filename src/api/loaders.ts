import { type EntityManager, type FindOptions } from '@mikro-orm/core';
import DataLoader from 'dataloader';
import { type RequestSecurity } from '../../security/system/request-security.js';
import { childrenOfVisibleParents } from '../../security/system/row-security.js';
import { relationVisibility } from './entity-operations.js';
import { type EntityModel, type ToManyModel } from './entity-model.js';
import { type ListArguments, pagination, translateOrderBy, translateWhere } from './query-arguments.js';

type Key = string | number;
type Row = Record<string, unknown>;

/**
 * The DataLoaders of one request, bound to that request's EntityManager fork: each relation level
 * of a query becomes one SQL statement, whatever the number of parent rows, and every statement
 * goes through the fork (and so, later, through its filters). The fork is asked for on every call and
 * every batch, and it is refused after the request's deadline (src/http/request-deadline.ts): a
 * relation field or a batch that starts later throws instead of querying or answering from the cache.
 */
export class RelationLoaders {
  private readonly byId = new Map<EntityModel, DataLoader<Key, Row | null>>();
  private readonly children = new Map<string, DataLoader<Key, Row[]>>();

  constructor(
    /** The request's fork while the request is within its deadline; throws after it. */
    private readonly emInTime: () => EntityManager,
    /** The request's security, which relation ids in nested `where`s ask (absent: anonymous). */
    private readonly security: RequestSecurity | undefined,
  ) {}

  /** The row with this primary key, or null when absent. */
  load(model: EntityModel, id: Key): Promise<Row | null> {
    // Past the deadline not even a row already loaded is answered: the response stops growing.
    this.emInTime();
    let loader = this.byId.get(model);
    if (!loader) {
      loader = new DataLoader((ids) => this.findByIds(model, ids), { maxBatchSize: 1000 });
      this.byId.set(model, loader);
    }
    return loader.load(id);
  }

  /** The rows of a to-many relation of one parent, with per-parent where/orderBy/limit/offset. */
  loadChildren(relation: ToManyModel, parentId: Key, args: ListArguments): Promise<Row[]> {
    // As in load(): nothing new starts past the deadline, cached or not.
    this.emInTime();
    const key = `${relation.target.name}.${relation.mappedBy}:${JSON.stringify(args)}`;
    let loader = this.children.get(key);
    if (!loader) {
      // Validate before batching, so a bad argument fails the field rather than the whole batch.
      const page = pagination(args);
      const related = relationVisibility(this.security, relation.target);
      const where = translateWhere(relation.target, args.where, related);
      const orderBy = translateOrderBy(relation.target, args.orderBy, related);
      loader = new DataLoader((parentIds) => this.findChildren(relation, parentIds, where, orderBy, page), {
        maxBatchSize: 1000,
      });
      this.children.set(key, loader);
    }
    return loader.load(parentId);
  }

  /** Forgets everything loaded: a mutation may have changed any of it. */
  clearAll(): void {
    this.byId.clear();
    this.children.clear();
  }

  private async findByIds(model: EntityModel, ids: readonly Key[]): Promise<(Row | null)[]> {
    const em = this.emInTime();
    const pk = model.primaryKey.name;
    const rows = (await em.find(model.cls, { [pk]: { $in: [...ids] } })) as Row[];
    const byKey = new Map(rows.map((row) => [row[pk] as Key, row]));
    return ids.map((id) => byKey.get(id) ?? null);
  }

  private async findChildren(
    relation: ToManyModel,
    parentIds: readonly Key[],
    where: object,
    orderBy: FindOptions<object>['orderBy'],
    page: { limit: number; offset: number },
  ): Promise<Row[][]> {
    const parentKey = relation.target.toOne.find((toOne) => toOne.name === relation.mappedBy)!.target
      .primaryKey.name;
    const em = this.emInTime();
    const rows = (await em.find(
      relation.target.cls,
      { $and: [{ [relation.mappedBy]: { $in: [...parentIds] } }, where] },
      {
        orderBy,
        filters: childrenOfVisibleParents(em, relation.mappedBy),
        // MikroORM's per-parent window (row_number() over (partition by <fk>)): the limit applies to
        // each parent, in one statement. It is the option its own populate uses for per-parent limits.
        _partitionLimit: { partitionBy: relation.mappedBy, limit: page.limit, offset: page.offset },
      } as FindOptions<object>,
    )) as Row[];
    const byParent = new Map<Key, Row[]>(parentIds.map((id) => [id, []]));
    for (const row of rows) {
      const parent = row[relation.mappedBy] as Row;
      byParent.get(parent[parentKey] as Key)?.push(row);
    }
    return parentIds.map((id) => byParent.get(id)!);
  }
}
