import { MikroORM } from '@mikro-orm/postgresql';
import { printSchema } from 'graphql';
import { pino } from 'pino';
import { compileSecurityModel } from '../../security/system/security-model.js';
import { createOrmOptions } from '../db/orm-config.js';
import { QueryLog } from '../db/query-log.js';
import { type Domain } from '../domain.js';
import { buildGatewaySchema } from './schema.js';

/** The served domain's schema: what clients of `npm start` are typed against. */
export const SCHEMA_FILE = 'schema/schema.graphql';

const HEADER =
  '# Emitted by `npm run schema:emit` from the entity classes. Do not edit: test/schema/schema-file.test.ts fails on drift.\n\n';

/** The schema text a domain's entity classes emit. Needs no database: metadata only. */
export async function emitSchemaText(domain: Domain): Promise<string> {
  // The ORM is constructed for its metadata only; it never connects.
  const orm = new MikroORM(
    createOrmOptions({
      clientUrl: 'postgres://metadata-only@127.0.0.1/none',
      queryLog: new QueryLog(pino({ level: 'silent' })),
      entities: domain.entities,
    }),
  );
  const model = compileSecurityModel(domain.policy, orm.getMetadata());
  return HEADER + printSchema(await buildGatewaySchema(orm, model)) + '\n';
}
