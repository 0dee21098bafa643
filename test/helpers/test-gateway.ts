import { type ResultOf, type TypedDocumentNode, type VariablesOf } from '@graphql-typed-document-node/core';
import { MikroORM } from '@mikro-orm/postgresql';
import { type GraphQLFormattedError } from 'graphql';
import { type Logger, pino } from 'pino';
import { createRequestContext } from '../../src/context.js';
import { createOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface OperationResult<T> {
  data?: T | null;
  errors?: readonly GraphQLFormattedError[];
}

export interface TestGateway {
  db: TestDatabase;
  orm: MikroORM;
  gateway: Gateway;
  queryLog: QueryLog;
  /** Runs an operation through Apollo Server with a fresh request context, as an HTTP request would. */
  execute<T, V extends Record<string, unknown>>(
    document: TypedDocumentNode<T, V>,
    variables?: V,
  ): Promise<OperationResult<T>>;
  /** Like execute, and also returns the SQL statements the operation ran. */
  executeCountingSql<T, V extends Record<string, unknown>>(
    document: TypedDocumentNode<T, V>,
    variables?: V,
  ): Promise<OperationResult<T> & { statements: string[] }>;
  close(): Promise<void>;
}

export type { ResultOf, VariablesOf };

/** A gateway on its own copy of the seeded database. */
export async function startTestGateway(
  options: { empty?: boolean; poolSize?: number; log?: Logger } = {},
): Promise<TestGateway> {
  const db = await createTestDatabase(options);
  const log = options.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const queryLog = new QueryLog(log);
  const orm = await MikroORM.init(
    createOrmOptions({ clientUrl: db.url, queryLog, poolSize: options.poolSize }),
  );
  const gateway = await createGateway({ orm, log });

  const execute: TestGateway['execute'] = async (document, variables) => {
    const response = await gateway.apollo.executeOperation(
      { query: document, variables },
      { contextValue: createRequestContext(orm, log) },
    );
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    return response.body.singleResult as OperationResult<never>;
  };

  return {
    db,
    orm,
    gateway,
    queryLog,
    execute,
    async executeCountingSql(document, variables) {
      const statements: string[] = [];
      const stop = queryLog.listen((sql) => statements.push(sql));
      try {
        return { ...(await execute(document, variables)), statements };
      } finally {
        stop();
      }
    },
    async close() {
      await gateway.stop();
      await db.drop();
    },
  };
}
