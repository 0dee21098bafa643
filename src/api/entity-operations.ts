import { type EntityData, wrap } from '@mikro-orm/core';
import { type EntityManager } from '@mikro-orm/postgresql';
import { getNamedType, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import { type RequestContext } from '../context.js';
import { type RequestSecurity } from '../../security/system/request-security.js';
import { badUserInput, notFound } from '../errors.js';
import { misfit } from './column-types.js';
import { CompiledRead, type RootRead } from './compiled-read.js';
import { type EntityModel, primaryKeyOf, toOneById } from './entity-model.js';
import {
  type ListArguments,
  pagination,
  parseId,
  keySql,
  parseKey,
  translateOrderBy,
  translateWhere,
  type WhereInput,
} from './query-arguments.js';
import {
  fieldsReadByGroups,
  type GroupOrderByInput,
  translateBy,
  translateGroupOrder,
  translateHaving,
} from './aggregate-arguments.js';
import { aggregateSelectionOf, planConnectionRead, planRead, type RootPlan } from './read-plan.js';
import {
  type ConnectionArguments,
  type ConnectionRows,
  connectionValue,
  translateConnection,
} from './connection-arguments.js';
import { authorizeRead, relationVisibility, securityOf } from './request-checks.js';
import { type Statement } from './statement.js';
import { type Attempt, toUserError } from './write-refusals.js';

type Row = Record<string, unknown>;
type Input = Record<string, unknown>;

/** A compiled read on the request's EntityManager, in time, cancelled at the request's deadline. */
const compiledRead = (ctx: RequestContext) => new CompiledRead(() => ctx.em, ctx.deadline);

/**
 * The statement of the query root field `info`: the gateway's compiled one for this document,
 * variables and identity when it has it (src/api/compiled-statements.ts), else built by `build`.
 */
function statementOf(ctx: RequestContext, info: GraphQLResolveInfo, build: () => Statement): Statement {
  return ctx.statements
    ? ctx.statements.statement(info, securityOf(ctx).user, ctx.responses !== undefined, build)
    : build();
}

/**
 * The rows a read statement reads. The relations its plan left out are kept in the request for their
 * fields, which resolve to the refusal (read-plan.ts `relationValue`).
 */
function rowsOf(ctx: RequestContext, read: CompiledRead, statement: Statement): Promise<Row[]> {
  keepRefusals(ctx, statement);
  return read.rows(statement);
}

/** The relations a statement's plan left out, kept in the request for their fields. */
function keepRefusals(ctx: RequestContext, statement: Statement) {
  for (const [place, refusal] of statement.refusals ?? []) ctx.refusedRelations.set(place, refusal);
}

/**
 * The generic operations behind every entity's root fields; the resolvers only wire them to GraphQL.
 * Reads take the field's `info`: what the document selects below the field is read in the same
 * statement (src/api/compiled-read.ts), so a read costs one statement whatever its depth. The verb
 * and field checks of the root field run on every request, before its statement is looked up.
 */
export async function list(
  ctx: RequestContext,
  model: EntityModel,
  args: ListArguments,
  info: GraphQLResolveInfo,
): Promise<object[]> {
  authorizeRead(ctx, model, args);
  const read = compiledRead(ctx);
  const statement = statementOf(ctx, info, () => {
    const { limit, offset } = pagination(args);
    const related = relationVisibility(ctx);
    return readStatement(ctx, read, planRead(ctx, model, info), {
      where: translateWhere(model, args.where, related),
      orderBy: translateOrderBy(model, args.orderBy, related),
      limit,
      offset,
    });
  });
  if (statement.answer) {
    answerOf(ctx, info, await read.answer(statement));
    return [];
  }
  return rowsOf(ctx, read, statement);
}

/**
 * The statement of a root field's read: its answer as the response writes it where the request takes
 * answers and PostgreSQL can write every field of it (read-plan.ts ReadPlan.answer), else its rows.
 */
function readStatement(ctx: RequestContext, read: CompiledRead, plan: RootPlan, root: RootRead): Statement {
  const { answer } = plan;
  return ctx.responses && answer
    ? read.answerStatement({ ...plan, answer }, root)
    : read.rowsStatement(plan, root);
}

/**
 * Keeps a root field's answer for the response (src/http/response-splices.ts); the field resolves
 * to a stand-in meanwhile: an empty list, or null for a by-key field (`single`), whose answer is the
 * one row of its array or null.
 */
function answerOf(ctx: RequestContext, info: GraphQLResolveInfo, json: string, single = false): void {
  const answer = single ? (json === '[]' ? 'null' : json.slice(1, -1)) : json;
  ctx.responses!.keep(String(info.path.key), answer);
}

export async function count(
  ctx: RequestContext,
  model: EntityModel,
  where: WhereInput | null | undefined,
  info: GraphQLResolveInfo,
) {
  authorizeRead(ctx, model, { where });
  const read = compiledRead(ctx);
  const statement = statementOf(ctx, info, () =>
    read.countStatement(
      model,
      translateWhere(model, where, relationVisibility(ctx)),
      securityOf(ctx).throughScope(model.name),
    ),
  );
  return read.scan<number>(statement);
}

/** `<plural>Aggregate(where)`: count, sums, averages, least and greatest values of the visible rows. */
export async function aggregate(
  ctx: RequestContext,
  model: EntityModel,
  where: WhereInput | null | undefined,
  info: GraphQLResolveInfo,
) {
  authorizeRead(ctx, model, { where });
  securityOf(ctx).authorizeAggregate(model.name);
  const selection = aggregateSelectionOf(ctx, model, info, returnedObject(info), info.fieldNodes);
  const read = compiledRead(ctx);
  const statement = statementOf(ctx, info, () =>
    read.aggregateStatement(
      model,
      translateWhere(model, where, relationVisibility(ctx)),
      selection,
      securityOf(ctx).throughScope(model.name),
    ),
  );
  return read.scan<Row>(statement);
}

/** The arguments of `<plural>GroupBy`. */
export interface GroupByArguments {
  by: string[];
  where?: WhereInput | null;
  having?: WhereInput | null;
  orderBy?: GroupOrderByInput[] | null;
  limit?: number | null;
  offset?: number | null;
}

/** `<plural>GroupBy(by, where, having, orderBy, limit, offset)`: a page of groups with their aggregates. */
export async function groupBy(
  ctx: RequestContext,
  model: EntityModel,
  args: GroupByArguments,
  info: GraphQLResolveInfo,
) {
  authorizeRead(ctx, model, { where: args.where });
  const security = securityOf(ctx);
  security.authorizeAggregate(model.name);
  for (const field of fieldsReadByGroups(args.by, args.having, args.orderBy))
    security.authorizeField(model.name, field);
  const selection = aggregateSelectionOf(ctx, model, info, returnedObject(info), info.fieldNodes, args.by);
  const read = compiledRead(ctx);
  const statement = statementOf(ctx, info, () => {
    const related = relationVisibility(ctx);
    const keys = translateBy(model, args.by, related);
    return read.groupsStatement(
      model,
      {
        where: translateWhere(model, args.where, related),
        keys,
        having: translateHaving(model, args.having),
        orderBy: translateGroupOrder(model, args.orderBy, keys),
        ...pagination(args),
        selection,
      },
      security.throughScope(model.name),
    );
  });
  return read.scan<Row[]>(statement);
}

/** `<plural>Connection(first, after, last, before, where, orderBy)`: a Relay page of the visible rows. */
export async function connection(
  ctx: RequestContext,
  model: EntityModel,
  args: ConnectionArguments,
  info: GraphQLResolveInfo,
) {
  authorizeRead(ctx, model, args);
  const read = compiledRead(ctx);
  const statement = statementOf(ctx, info, () =>
    read.connectionStatement(
      model,
      planConnectionRead(ctx, model, info),
      translateConnection(ctx, model, args),
      securityOf(ctx).throughScope(model.name),
    ),
  );
  keepRefusals(ctx, statement);
  return connectionValue(await read.scan<ConnectionRows>(statement), args, ctx, model);
}

/** The object type a root field returns (itself, or the items of its list). */
const returnedObject = (info: GraphQLResolveInfo) => getNamedType(info.returnType) as GraphQLObjectType;

/** The key arguments of a by-key field: `{ id }`, or one per column of a composite key. */
export type KeyArguments = Record<string, unknown>;

export async function byId(
  ctx: RequestContext,
  model: EntityModel,
  args: KeyArguments,
  info: GraphQLResolveInfo,
) {
  authorizeRead(ctx, model);
  const read = compiledRead(ctx);
  const statement = statementOf(ctx, info, () => {
    const key = parseKey(model, args);
    return readStatement(ctx, read, planRead(ctx, model, info), { where: keySql(model, key) });
  });
  if (statement.answer) {
    answerOf(ctx, info, await read.answer(statement), true);
    return null;
  }
  const [row] = await rowsOf(ctx, read, statement);
  return row ?? null;
}

/** The key of a loaded entity as a condition: `{ id: 7 }`, `{ staff: 1, skill: 'sql' }`. */
function keyOf(em: EntityManager, model: EntityModel, entity: object): Row {
  const values =
    em.getMetadata().get(model.cls).getPrimaryProps().length > 1
      ? (wrap(entity, true).getPrimaryKeys(true) as unknown[])
      : [(entity as Row)[primaryKeyOf(model).name]];
  return Object.fromEntries(model.key.map((part, index) => [part.name, values[index]]));
}

/**
 * What a mutation answers: the written row read back through the same compiled path as any read, with
 * everything `info` selects below it; null when hidden. Never from the gateway's compiled statements:
 * its key is the written row's, not the document's.
 */
async function readBack(ctx: RequestContext, model: EntityModel, key: Row, info: GraphQLResolveInfo) {
  const read = compiledRead(ctx);
  const [row] = await rowsOf(
    ctx,
    read,
    read.rowsStatement(planRead(ctx, model, info), { where: keySql(model, key) }),
  );
  return row ?? null;
}

export async function create(
  ctx: RequestContext,
  model: EntityModel,
  input: Input,
  info: GraphQLResolveInfo,
): Promise<object | null> {
  const security = securityOf(ctx);
  security.authorizeWrite(model.name, 'insert', Object.keys(input));
  const stamped = security.stampInsert(model.name, input);
  const key = await write(ctx, model, 'create', async (em, attempt) => {
    const entity = em.create(model.cls, await toEntityData(em, model, stamped, 'create'));
    attempt.entity = entity;
    await em.flush();
    await requireStillVisible(em, model, entity, security);
    return keyOf(em, model, entity);
  });
  return readBack(ctx, model, key, info);
}

export async function update(
  ctx: RequestContext,
  model: EntityModel,
  args: KeyArguments,
  input: Input,
  info: GraphQLResolveInfo,
): Promise<object | null> {
  const security = securityOf(ctx);
  security.authorizeWrite(model.name, 'update', Object.keys(input));
  security.refuseForeignValues(model.name, input);
  const key = await write(ctx, model, 'update', async (em, attempt) => {
    const entity = await findForWrite(em, model, args);
    em.assign(entity, await toEntityData(em, model, input, 'update'));
    attempt.entity = entity;
    await em.flush();
    await requireStillVisible(em, model, entity, security);
    return keyOf(em, model, entity);
  });
  return readBack(ctx, model, key, info);
}

export async function remove(ctx: RequestContext, model: EntityModel, args: KeyArguments): Promise<boolean> {
  securityOf(ctx).authorize(model.name, 'delete');
  return write(ctx, model, 'delete', async (em, attempt) => {
    const entity = await findForWrite(em, model, args);
    attempt.key = keyOf(em, model, entity);
    em.remove(entity);
    await em.flush();
    return true;
  });
}

/**
 * Runs one mutation in its own transaction on the request's fork: either all of it is written or
 * nothing is. What earlier fields of the request loaded is forgotten first, since it may be stale now.
 */
async function write<T>(
  ctx: RequestContext,
  model: EntityModel,
  verb: 'create' | 'update' | 'delete',
  work: (em: EntityManager, attempt: Attempt) => Promise<T>,
): Promise<T> {
  ctx.em.clear();
  const attempt: Attempt = {};
  try {
    return await ctx.em.transactional((em) => work(em, attempt));
  } catch (error) {
    // The write ran in a savepoint of the request's transaction, rolled back now: what the refusal
    // may say is read there, under the caller's filters.
    throw await toUserError(error, ctx.em, model, verb, securityOf(ctx), attempt);
  }
}

/**
 * Like PostgreSQL's WITH CHECK: the written row must still satisfy the caller's row predicate, else
 * the transaction is rolled back. A count always queries (a find could answer from the identity map).
 */
async function requireStillVisible(
  em: EntityManager,
  model: EntityModel,
  entity: object,
  security: RequestSecurity,
) {
  const key = keyOf(em, model, entity);
  if ((await em.count(model.cls, key)) === 0) {
    throw await security.notVisibleAfterWrite(em, model.name, key);
  }
}

/** The row to write by its key arguments, through the filtered EntityManager: hidden is NOT_FOUND like absent. */
async function findForWrite(em: EntityManager, model: EntityModel, args: KeyArguments): Promise<object> {
  const key = parseKey(model, args);
  const entity = await em.findOne(model.cls, key);
  if (!entity) {
    const shown = model.key.length === 1 ? key[primaryKeyOf(model).name] : args;
    throw notFound(`${model.name} ${JSON.stringify(shown)} not found`);
  }
  return entity;
}

/**
 * Validates an input against the model and resolves `<relation>Id` fields to rows loaded through
 * the request's EntityManager: a reference the caller cannot load is NOT_FOUND, never a blind
 * foreign key (no getReference() on ids from the client).
 */
async function toEntityData(
  em: EntityManager,
  model: EntityModel,
  input: Input,
  verb: 'create' | 'update',
): Promise<EntityData<object>> {
  const data: Row = {};
  for (const scalar of model.scalars) {
    const value = input[scalar.name];
    if (value === undefined) continue;
    if (value === null && !scalar.nullable) {
      throw badUserInput(`${model.name}.${scalar.name} cannot be null`);
    }
    if (scalar.readOnly) throw badUserInput(`${model.name}.${scalar.name} is filled by the database`);
    for (const element of scalar.list && Array.isArray(value) ? value : [value]) {
      const problem = misfit({ ...scalar.column, maxLength: scalar.maxLength }, element);
      if (problem) throw badUserInput(`${model.name}.${scalar.name} ${problem}`);
    }
    if (verb === 'create' && scalar.name === primaryKeyOf(model).name && value === '') {
      throw badUserInput(`${model.name}.${scalar.name} must not be empty`);
    }
    data[scalar.name] = value;
  }
  for (const relation of toOneById(model)) {
    const id = input[relation.idField];
    if (id === undefined) continue;
    if (id === null) {
      if (!relation.nullable) throw badUserInput(`${model.name}.${relation.idField} cannot be null`);
      data[relation.name] = null;
      continue;
    }
    const key = parseId(relation.target, id as string, relation.idField);
    const target = await em.findOne(relation.target.cls, { [primaryKeyOf(relation.target).name]: key });
    if (!target)
      throw notFound(`${relation.target.name} ${JSON.stringify(key)} not found (${relation.idField})`);
    data[relation.name] = target;
  }
  return data as EntityData<object>;
}
