import { type MikroORM } from '@mikro-orm/postgresql';
import { type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import { Authorized, buildSchema, type ClassType } from 'type-graphql';
import { type SecurityModel } from '../../security/system/security-model.js';
import { AuthResolver } from '../auth/auth.resolver.js';
import { buildEntityModels, type EntityModel } from './entity-model.js';
import { type AggregateTypes, createAggregateTypes, type TypeName } from './inputs/aggregate-types.js';
import { createConnectionType } from './inputs/connection-types.js';
import { createEntityInputs, type EntityInputs, inputNames } from './inputs/entity-inputs.js';
import { type ConnectionArguments, type ConnectionRows, connectionValue } from './connection-arguments.js';
import { type RequestContext } from '../context.js';
import { securityOf } from './request-checks.js';
import { createEntityResolver } from './entity-resolver.js';
import { relationValue } from './read-plan.js';

const built = new Map<string, Promise<GraphQLSchema>>();

/**
 * The gateway's GraphQL schema, generated from the entity classes the ORM was given. It is built
 * once per set of classes (and stamped attributes and restricted fields) in a process: type-graphql
 * keeps type names in one global registry (a second build would register its inputs twice), and the
 * schema holds no per-request state.
 */
export function buildGatewaySchema(
  orm: MikroORM,
  model: Pick<SecurityModel, 'stampedAttributes' | 'restrictedFields'>,
): Promise<GraphQLSchema> {
  const entities = orm.config.get('entities') as (new () => object)[];
  // Global-filter attributes, stamped on insert: optional in create inputs.
  const stamped = model.stampedAttributes();
  const restricted = model.restrictedFields();
  const key = JSON.stringify([entities.map((cls) => cls.name), stamped, restricted]);
  let schema = built.get(key);
  if (schema) return schema;
  schema = (async () => {
    const metadata = orm.getMetadata();
    // A restricted field (restrictFields) goes through the auth checker below, which asks the model;
    // the mark is type-graphql's and global, but a field the model does not restrict passes it.
    const classes = new Map([...metadata.getAll().values()].map((meta) => [meta.className, meta.class]));
    for (const [entityName, field] of restricted)
      Authorized()(classes.get(entityName)!.prototype as object, field);
    const models = buildEntityModels(metadata, entities);
    const inputs = new Map<EntityModel, EntityInputs>();
    const inputsOf = (model: EntityModel): EntityInputs => inputs.get(model)!;
    for (const model of models) inputs.set(model, createEntityInputs(model, new Set(stamped), inputsOf));
    const typeName = freeTypeNames(models);
    const aggregates = new Map(
      models.map((model) => [model, createAggregateTypes(model, inputsOf(model), typeName)]),
    );
    const aggregatesOf = (model: EntityModel): AggregateTypes => aggregates.get(model)!;
    const connections = new Map(models.map((model) => [model, createConnectionType(model, typeName)]));
    const connectionOf = (model: EntityModel): ClassType => connections.get(model)!;
    const resolvers = models.map((model) =>
      createEntityResolver(model, inputsOf, aggregatesOf, connectionOf),
    );
    const schema = await buildSchema({
      resolvers: [AuthResolver, ...resolvers] as [ClassType, ...ClassType[]],
      validate: false,
      // Restricted fields (e.g. Employee.salary): the security model answers FORBIDDEN for other roles.
      authChecker: ({ context, info }) => {
        securityOf(context as RequestContext).authorizeField(info.parentType.name, info.fieldName);
        return true;
      },
      emitSchemaFile: false,
    });
    return resolveRelationsSynchronously(schema, models);
  })();
  built.set(key, schema);
  return schema;
}

/**
 * Names for the generated types (`OrderAggregate`, `OrderGroup`, …) that no entity, entity input or
 * other generated type has: a database may well hold a `user_group` table beside `user`, whose entity
 * `UserGroup` keeps its name and its inputs theirs (`UserGroupOrderBy`); the group of `User` is then
 * `UserGroup_`, and the group sort key `UserGroupOrderBy_`.
 */
function freeTypeNames(models: EntityModel[]): TypeName {
  const taken = new Set(['PageInfo', ...models.flatMap((model) => [model.name, ...inputNames(model.name)])]);
  return (wanted) => {
    let name = wanted;
    while (taken.has(name)) name += '_';
    taken.add(name);
    return name;
  };
}

/**
 * Resolves the relation fields with `relationValue` itself, not through type-graphql's resolver of
 * the same method (entity-resolver.ts declares them, with their arguments): type-graphql validates
 * every argument in an async function, so a field with arguments answers a Promise for every row, and
 * graphql-js completes each asynchronously — a to-many relation of a nested read of 200 rows is 200
 * Promises (measured: S3 of compare.sh 15 % slower). The value is the same: relation fields have no
 * middleware or role, and their arguments were applied when the root field planned the read.
 */
function resolveRelationsSynchronously(schema: GraphQLSchema, models: EntityModel[]): GraphQLSchema {
  for (const model of models) {
    const fields = (schema.getType(model.name) as GraphQLObjectType).getFields();
    const relations = [
      ...model.toOne.map((relation) => relation.name),
      ...model.toMany.flatMap((relation) => [
        relation.name,
        ...[relation.countField, relation.aggregateField].filter(
          (field): field is string => field !== undefined,
        ),
      ]),
    ];
    for (const name of relations)
      fields[name]!.resolve = (parent: Record<string, unknown>, _args, ctx: RequestContext, info) =>
        relationValue(parent, ctx, info);
    // A connection's statement read its rows; its edges, cursors and page info are made of them here.
    for (const relation of model.toMany)
      if (relation.connectionField)
        fields[relation.connectionField]!.resolve = (
          parent: Record<string, unknown>,
          args: ConnectionArguments,
          ctx: RequestContext,
          info,
        ) => connectionValue(relationValue(parent, ctx, info) as ConnectionRows, args, ctx, relation.target);
  }
  return schema;
}
