import { GraphQLID, GraphQLInt, type GraphQLResolveInfo, GraphQLString } from 'graphql';
import {
  Arg,
  type ClassType,
  Ctx,
  FieldResolver,
  Info,
  type MiddlewareFn,
  Mutation,
  Query,
  Resolver,
  Root,
  UseMiddleware,
} from 'type-graphql';
import { requireUser } from '../auth/require-user.js';
import { type RequestContext } from '../context.js';
import { trackedWork } from '../http/request-work.js';
import { type EntityModel } from './entity-model.js';
import * as operations from './entity-operations.js';
import { type AggregateTypes } from './inputs/aggregate-types.js';
import { type EntityInputs } from './inputs/entity-inputs.js';
import { inputTypeOf } from './inputs/scalar-filters.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from './query-arguments.js';
import { relationValue } from './read-plan.js';

type Row = Record<string, unknown>;
type Method = (...args: never[]) => unknown;
type Info = GraphQLResolveInfo;
type ParameterDecorator = (prototype: object, method: string, index: number) => void;

/** Defines `name` on the resolver's prototype and applies type-graphql's decorators to it, as TypeScript would. */
function defineMethod(
  prototype: object,
  name: string,
  method: Method,
  decorators: MethodDecorator[],
  parameters: ParameterDecorator[],
) {
  const descriptor: PropertyDescriptor = { value: method, writable: true, configurable: true };
  Object.defineProperty(prototype, name, descriptor);
  parameters.forEach((parameter, index) => parameter(prototype, name, index));
  for (const decorate of decorators) decorate(prototype, name, descriptor);
}

/** Data fields run inside the request's transaction, which carries the user to the database's policies. */
const inRequestTransaction: MiddlewareFn<RequestContext> = async ({ context, info }, next) => {
  await context.transaction?.open(info.operation.operation);
  return next();
};

/**
 * Every root field of the generic API is tracked among the request's work, needs an authenticated
 * user, and reads within its transaction.
 */
const guarded = (decorator: MethodDecorator): MethodDecorator[] => [
  UseMiddleware(trackedWork, requireUser, inRequestTransaction),
  decorator,
];

/** A relation field's method: the parent row first, the context and info last, its arguments between. */
const relationField: Method = (...args: unknown[]) =>
  relationValue(args[0] as Row, args.at(-2) as RequestContext, args.at(-1) as Info);

const connectionArgs = (inputs: EntityInputs, target: string): ParameterDecorator[] => [
  Arg('first', () => GraphQLInt, {
    nullable: true,
    description: `The first this many ${target} rows after after (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`,
  }),
  Arg('after', () => GraphQLString, { nullable: true, description: 'A cursor: the rows after its row' }),
  Arg('last', () => GraphQLInt, {
    nullable: true,
    description: `The last this many ${target} rows before before (at most ${MAX_LIMIT})`,
  }),
  Arg('before', () => GraphQLString, { nullable: true, description: 'A cursor: the rows before its row' }),
  Arg('where', () => inputs.where, { nullable: true }),
  Arg('orderBy', () => [inputs.orderBy], {
    nullable: true,
    description: 'Sort keys, most significant first (the key last, always)',
  }),
];

const listArgs = (inputs: EntityInputs, target: string): ParameterDecorator[] => [
  Arg('where', () => inputs.where, { nullable: true }),
  Arg('orderBy', () => [inputs.orderBy], {
    nullable: true,
    description: 'Sort keys, most significant first',
  }),
  Arg('limit', () => GraphQLInt, {
    nullable: true,
    description: `At most this many ${target} rows (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`,
  }),
  Arg('offset', () => GraphQLInt, { nullable: true, description: 'Skip this many rows first' }),
];

/**
 * Builds the resolver of one entity: the six root fields of SPEC §4 (of a view: its list, its count,
 * and its by-key field where it has a key) and a field per relation.
 * Everything comes from the model, so a new entity class gets its API without a resolver of its own.
 */
export function createEntityResolver(
  model: EntityModel,
  inputsOf: (model: EntityModel) => EntityInputs,
  aggregatesOf: (model: EntityModel) => AggregateTypes,
  connectionOf: (model: EntityModel) => ClassType,
): ClassType {
  @Resolver(() => model.cls)
  class EntityResolver {}
  const prototype = EntityResolver.prototype;
  const inputs = inputsOf(model);
  const { name, singular, plural } = model;

  defineMethod(
    prototype,
    plural,
    (where: never, orderBy: never, limit: never, offset: never, ctx: RequestContext, info: Info) =>
      operations.list(ctx, model, { where, orderBy, limit, offset }, info),
    guarded(
      Query(() => [model.cls], {
        name: plural,
        description: `${name} rows matching where, in orderBy order`,
      }),
    ),
    [...listArgs(inputs, name), Ctx(), Info()],
  );
  // The by-key fields take the key as arguments: `id: ID!`, or one per column of a composite key.
  const keyArgs = model.key.map((part) =>
    Arg(
      part.argument,
      () =>
        model.key.length === 1 || part.relation
          ? GraphQLID
          : inputTypeOf({ kind: part.kind, enumType: part.enumType, list: false }),
      {
        description: model.key.length === 1 ? undefined : `Key column ${part.name}`,
      },
    ),
  );
  const keyOf = (values: unknown[]) =>
    Object.fromEntries(model.key.map((part, index) => [part.argument, values[index]]));
  const keyName =
    model.key.length === 1 ? 'id' : `key (${model.key.map((part) => part.argument).join(', ')})`;
  const keyCount = model.key.length;
  // A view without a key has no row to fetch by one.
  if (keyCount > 0)
    defineMethod(
      prototype,
      singular,
      (...args: unknown[]) =>
        operations.byId(
          args[keyCount] as RequestContext,
          model,
          keyOf(args.slice(0, keyCount)),
          args[keyCount + 1] as Info,
        ),
      guarded(
        Query(() => model.cls, {
          name: singular,
          nullable: true,
          description: `The ${name} with this ${keyName}, or null`,
        }),
      ),
      [...keyArgs, Ctx(), Info()],
    );
  defineMethod(
    prototype,
    `${plural}Count`,
    (where: never, ctx: RequestContext, info: Info) => operations.count(ctx, model, where, info),
    guarded(
      Query(() => GraphQLInt, { name: `${plural}Count`, description: `How many ${name} rows match where` }),
    ),
    [Arg('where', () => inputs.where, { nullable: true }), Ctx(), Info()],
  );
  defineMethod(
    prototype,
    `${plural}Connection`,
    (
      first: never,
      after: never,
      last: never,
      before: never,
      where: never,
      orderBy: never,
      ctx: RequestContext,
      info: Info,
    ) => operations.connection(ctx, model, { first, after, last, before, where, orderBy }, info),
    guarded(
      Query(() => connectionOf(model), {
        name: `${plural}Connection`,
        description: `${name} rows matching where, in orderBy order, a page at a time (Relay)`,
      }),
    ),
    [...connectionArgs(inputs, name), Ctx(), Info()],
  );
  const aggregates = aggregatesOf(model);
  defineMethod(
    prototype,
    `${plural}Aggregate`,
    (where: never, ctx: RequestContext, info: Info) => operations.aggregate(ctx, model, where, info),
    guarded(
      Query(() => aggregates.aggregate, {
        name: `${plural}Aggregate`,
        description: `Aggregates over the ${name} rows that match where`,
      }),
    ),
    [Arg('where', () => inputs.where, { nullable: true }), Ctx(), Info()],
  );
  const { group } = aggregates;
  if (group)
    defineMethod(
      prototype,
      `${plural}GroupBy`,
      (
        by: never,
        where: never,
        having: never,
        orderBy: never,
        limit: never,
        offset: never,
        ctx: RequestContext,
        info: Info,
      ) => operations.groupBy(ctx, model, { by, where, having, orderBy, limit, offset }, info),
      guarded(
        Query(() => [group.group], {
          name: `${plural}GroupBy`,
          description: `${name} rows matching where in groups sharing the values of by, with their aggregates`,
        }),
      ),
      [
        Arg('by', () => [group.field], { description: 'The fields whose values each group shares' }),
        Arg('where', () => inputs.where, { nullable: true }),
        Arg('having', () => group.having, { nullable: true, description: 'Conditions on the groups' }),
        Arg('orderBy', () => [group.orderBy], {
          nullable: true,
          description: 'Sort keys, most significant first (then the keys of by)',
        }),
        Arg('limit', () => GraphQLInt, {
          nullable: true,
          description: `At most this many groups (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`,
        }),
        Arg('offset', () => GraphQLInt, { nullable: true, description: 'Skip this many groups first' }),
        Ctx(),
        Info(),
      ],
    );
  // No create or update field where no column can be written (everything filled by the database).
  const { create, update } = inputs;
  if (create)
    defineMethod(
      prototype,
      `create${name}`,
      (input: Row, ctx: RequestContext, info: Info) => operations.create(ctx, model, input, info),
      guarded(Mutation(() => model.cls, { name: `create${name}` })),
      [Arg('input', () => create), Ctx(), Info()],
    );
  if (update)
    defineMethod(
      prototype,
      `update${name}`,
      (...args: unknown[]) =>
        operations.update(
          args[keyCount + 1] as RequestContext,
          model,
          keyOf(args.slice(0, keyCount)),
          args[keyCount] as Row,
          args[keyCount + 2] as Info,
        ),
      guarded(Mutation(() => model.cls, { name: `update${name}` })),
      [...keyArgs, Arg('input', () => update), Ctx(), Info()],
    );
  if (!model.readOnly)
    defineMethod(
      prototype,
      `delete${name}`,
      (...args: unknown[]) =>
        operations.remove(args[keyCount] as RequestContext, model, keyOf(args.slice(0, keyCount))),
      guarded(
        Mutation(() => Boolean, { name: `delete${name}`, description: 'True once the row is deleted' }),
      ),
      [...keyArgs, Ctx()],
    );

  // Relation fields only hand out what their root field's statement read with the parent row: their
  // arguments were checked and applied when the root field planned the read (read-plan.ts). These
  // declare them; schema.ts resolves them with relationValue directly (see there why).
  for (const relation of model.toOne) {
    defineMethod(
      prototype,
      relation.name,
      relationField,
      // Always nullable: the related row may be hidden from the caller.
      [FieldResolver(() => relation.target.cls, { name: relation.name, nullable: true })],
      [Root(), Ctx(), Info()],
    );
  }
  for (const relation of model.toMany) {
    defineMethod(
      prototype,
      relation.name,
      relationField,
      [FieldResolver(() => [relation.target.cls], { name: relation.name })],
      [Root(), ...listArgs(inputsOf(relation.target), relation.target.name), Ctx(), Info()],
    );
    if (relation.countField)
      defineMethod(
        prototype,
        relation.countField,
        relationField,
        [
          FieldResolver(() => GraphQLInt, {
            name: relation.countField,
            description: `How many of its ${relation.name} match where`,
          }),
        ],
        [Root(), Arg('where', () => inputsOf(relation.target).where, { nullable: true }), Ctx(), Info()],
      );
    if (relation.connectionField)
      defineMethod(
        prototype,
        relation.connectionField,
        relationField,
        [
          FieldResolver(() => connectionOf(relation.target), {
            name: relation.connectionField,
            description: `Its ${relation.name} a page at a time (Relay)`,
          }),
        ],
        [Root(), ...connectionArgs(inputsOf(relation.target), relation.target.name), Ctx(), Info()],
      );
    if (relation.aggregateField)
      defineMethod(
        prototype,
        relation.aggregateField,
        relationField,
        [
          FieldResolver(() => aggregatesOf(relation.target).aggregate, {
            name: relation.aggregateField,
            description: `Aggregates over its ${relation.name} that match where`,
          }),
        ],
        [Root(), Arg('where', () => inputsOf(relation.target).where, { nullable: true }), Ctx(), Info()],
      );
  }
  return EntityResolver;
}
