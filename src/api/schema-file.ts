import { MikroORM } from '@mikro-orm/postgresql';
import { printSchema } from 'graphql';
import { pino } from 'pino';
import { createOrmOptions } from '../db/orm-config.js';
import { QueryLog } from '../db/query-log.js';
import { buildGatewaySchema } from './schema.js';

export const SCHEMA_FILE = 'schema/schema.graphql';

const HEADER =
  '# Emitted by `npm run schema:emit` from the entity classes. Do not edit: test/api/schema-file.test.ts fails on drift.\n\n';

/** The text of schema/schema.graphql as the current code emits it. Needs no database: metadata only. */
export async function emitSchemaText(): Promise<string> {
  // The ORM is constructed for its metadata only; it never connects.
  const orm = new MikroORM(
    createOrmOptions({
      clientUrl: 'postgres://metadata-only@127.0.0.1/none',
      queryLog: new QueryLog(pino({ level: 'silent' })),
    }),
  );
  return HEADER + printSchema(await buildGatewaySchema(orm.getMetadata())) + '\n';
}
