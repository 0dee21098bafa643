import {
  type EntityData,
  ForeignKeyConstraintViolationException,
  NotNullConstraintViolationException,
  UniqueConstraintViolationException,
} from '@mikro-orm/core';
import { type EntityManager } from '@mikro-orm/postgresql';
import { type RequestContext } from '../context.js';
import { badUserInput, notFound } from '../errors.js';
import { type EntityModel } from './entity-model.js';
import {
  type ListArguments,
  pagination,
  parseId,
  translateOrderBy,
  translateWhere,
  type WhereInput,
} from './query-arguments.js';

type Row = Record<string, unknown>;
type Input = Record<string, unknown>;

/** The generic operations behind every entity's root fields; the resolvers only wire them to GraphQL. */
export async function list(ctx: RequestContext, model: EntityModel, args: ListArguments): Promise<object[]> {
  const { limit, offset } = pagination(args);
  return ctx.em.find(model.cls, translateWhere(model, args.where), {
    orderBy: translateOrderBy(model, args.orderBy),
    limit,
    offset,
  });
}

export async function count(ctx: RequestContext, model: EntityModel, where: WhereInput | null | undefined) {
  return ctx.em.count(model.cls, translateWhere(model, where));
}

export async function byId(ctx: RequestContext, model: EntityModel, id: string) {
  return ctx.loaders.load(model, parseId(model, id));
}

export async function create(ctx: RequestContext, model: EntityModel, input: Input): Promise<object> {
  return write(ctx, model, 'create', async (em) => {
    const entity = em.create(model.cls, await toEntityData(em, model, input, 'create'));
    await em.flush();
    return entity;
  });
}

export async function update(
  ctx: RequestContext,
  model: EntityModel,
  id: string,
  input: Input,
): Promise<object> {
  return write(ctx, model, 'update', async (em) => {
    const entity = await findForWrite(em, model, id);
    em.assign(entity, await toEntityData(em, model, input, 'update'));
    await em.flush();
    return entity;
  });
}

export async function remove(ctx: RequestContext, model: EntityModel, id: string): Promise<boolean> {
  return write(ctx, model, 'delete', async (em) => {
    em.remove(await findForWrite(em, model, id));
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
  work: (em: EntityManager) => Promise<T>,
): Promise<T> {
  ctx.loaders.clearAll();
  ctx.em.clear();
  try {
    return await ctx.em.transactional(work);
  } catch (error) {
    throw toUserError(error, model, verb);
  }
}

async function findForWrite(em: EntityManager, model: EntityModel, id: string): Promise<object> {
  const key = parseId(model, id);
  const entity = await em.findOne(model.cls, { [model.primaryKey.name]: key });
  if (!entity) throw notFound(`${model.name} ${JSON.stringify(key)} not found`);
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
    if (typeof value === 'string' && scalar.maxLength !== undefined && value.length > scalar.maxLength) {
      throw badUserInput(`${model.name}.${scalar.name} must be at most ${scalar.maxLength} characters long`);
    }
    if (verb === 'create' && scalar.name === model.primaryKey.name && value === '') {
      throw badUserInput(`${model.name}.${scalar.name} must not be empty`);
    }
    data[scalar.name] = value;
  }
  for (const relation of model.toOne) {
    const id = input[relation.idField];
    if (id === undefined) continue;
    if (id === null) {
      if (!relation.nullable) throw badUserInput(`${model.name}.${relation.idField} cannot be null`);
      data[relation.name] = null;
      continue;
    }
    const key = parseId(relation.target, id as string, relation.idField);
    const target = await em.findOne(relation.target.cls, { [relation.target.primaryKey.name]: key });
    if (!target)
      throw notFound(`${relation.target.name} ${JSON.stringify(key)} not found (${relation.idField})`);
    data[relation.name] = target;
  }
  return data as EntityData<object>;
}

/** Database refusals become messages about the input; they never carry SQL, constraint names or values. */
function toUserError(error: unknown, model: EntityModel, verb: 'create' | 'update' | 'delete'): unknown {
  if (error instanceof UniqueConstraintViolationException) {
    return badUserInput(`A ${model.name} with the same id already exists`);
  }
  if (error instanceof ForeignKeyConstraintViolationException) {
    return verb === 'delete'
      ? badUserInput(`This ${model.name} cannot be deleted while other rows refer to it`)
      : notFound(`A row this ${model.name} refers to does not exist`);
  }
  if (error instanceof NotNullConstraintViolationException) {
    return badUserInput(`A required field of ${model.name} is missing`);
  }
  return error;
}
