import { type MetadataStorage } from '@mikro-orm/core';
import { type GraphQLSchema } from 'graphql';
import { buildSchema, type ClassType } from 'type-graphql';
import { AuthResolver } from '../auth/auth.resolver.js';
import declaredPolicy from '../../security/declare-security.js';
import { entities } from '../entities/index.js';
import { buildEntityModels, type EntityModel } from './entity-model.js';
import { createEntityInputs, type EntityInputs } from './inputs/entity-inputs.js';
import { type RequestContext } from '../context.js';
import { securityOf } from './entity-operations.js';
import { createEntityResolver } from './entity-resolver.js';
import { trackRootFields } from '../http/request-work.js';

/** Schemas built so far, by the entity classes they serve. */
const built: {
  classes: readonly (new () => object)[];
  stamped: readonly string[];
  schema: Promise<GraphQLSchema>;
}[] = [];

const sameClasses = (a: readonly unknown[], b: readonly unknown[]) =>
  a.length === b.length && a.every((cls, index) => cls === b[index]);

/**
 * The gateway's GraphQL schema, generated from the entity classes (src/entities unless the ORM was
 * given others, as the tests do). It is built once per process and set of classes: type-graphql
 * keeps type names in one global registry, and the schema holds no per-request state.
 */
export function buildGatewaySchema(
  metadata: MetadataStorage,
  classes: readonly (new () => object)[] = entities,
  /** Global-filter attributes, stamped on insert: optional in create inputs (the declared policy's by default). */
  stamped: readonly string[] = [...new Set(declaredPolicy.globalFilters.map((global) => global.attribute))],
): Promise<GraphQLSchema> {
  const known = built.find(
    (entry) => sameClasses(entry.classes, classes) && sameClasses(entry.stamped, stamped),
  );
  if (known) return known.schema;
  const schema = (async () => {
    const models = buildEntityModels(metadata, classes);
    const inputs = new Map<EntityModel, EntityInputs>(
      models.map((model) => [model, createEntityInputs(model, new Set(stamped))]),
    );
    const resolvers = models.map((model) => createEntityResolver(model, (m) => inputs.get(m)!));
    const schema = await buildSchema({
      resolvers: [AuthResolver, ...resolvers] as [ClassType, ...ClassType[]],
      validate: false,
      // Field roles (@Authorized, e.g. Employee.salary): the security model, which compiled the same
      // roles, answers FORBIDDEN for other roles.
      authChecker: ({ context, info }) => {
        securityOf(context as RequestContext).authorizeField(info.parentType.name, info.fieldName);
        return true;
      },
      emitSchemaFile: false,
    });
    return trackRootFields(schema);
  })();
  built.push({ classes: [...classes], stamped: [...stamped], schema });
  return schema;
}
