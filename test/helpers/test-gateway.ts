import { isTransactionFraming } from '../../src/db/request-transaction.js';
import { type ResultOf, type TypedDocumentNode, type VariablesOf } from '@graphql-typed-document-node/core';
import { type MikroORM } from '@mikro-orm/postgresql';
import { type GraphQLFormattedError } from 'graphql';
import { type Logger, pino } from 'pino';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { DEMO_PASSWORD } from '../../auth-providers/auth-provider.js';
import { LoginDocument } from '../../demo/northwind/__generated__/graphql.js';
import northwind from '../../demo/northwind/index.js';
import { type SecurityPolicy } from '../../security/system/policy.js';
import { type SecurityModel } from '../../security/system/security-model.js';
import { assembleGateway } from '../../src/assemble.js';
import { type Domain } from '../../src/domain.js';
import { type RequestIdentity } from '../../src/auth/auth-service.js';
import { type Auth } from '../../src/auth/create-auth.js';
import { createRequestContext, type RequestContextOptions } from '../../src/context.js';
import { type PoolSettings } from '../../src/db/orm-config.js';
import { type QueryLog } from '../../src/db/query-log.js';
import { ResponseSplices } from '../../src/http/response-splices.js';
import { endDeadline, requestDeadline } from '../../src/http/request-deadline.js';
import { DEFAULT_GATEWAY_SETTINGS, type Gateway, type GatewaySettings } from '../../src/gateway.js';
import { createTestDatabase, type TestDatabase } from './test-database.js';

export interface OperationResult<T> {
  data?: T | null;
  errors?: readonly GraphQLFormattedError[];
}

/**
 * Who an operation runs as: by default a superuser, so tests of the generic API are not about
 * authentication; `{ authorization }` sends that header (or none, with null) as a client would.
 */
export type Caller = { authorization: string | null } | undefined;

export const TEST_SUPERUSER: AuthUser = { id: 'test-superuser', name: 'Test', roles: ['sa'], attributes: {} };

export const TEST_AUTH_CONFIG = {
  nodeEnv: 'test',
  seed: 'demo',
  authProvider: 'sql',
  authDatabaseUrl: undefined,
  jwtSecret: 'a test secret that is at least 32 bytes long',
  jwtPrivateKey: undefined,
  jwtIssuer: 'grantgate',
  jwtAudience: 'grantgate',
  accessTokenTtlSeconds: 900,
  refreshTokenTtlSeconds: 7 * 86400,
  refreshTokenMaxAgeSeconds: 30 * 86400,
  redisUrl: undefined,
} as const;

export type TestAuthConfig = Omit<typeof TEST_AUTH_CONFIG, 'jwtPrivateKey' | 'redisUrl' | 'authProvider'> & {
  jwtPrivateKey?: string;
  redisUrl?: string;
  authProvider: string;
};

export interface TestGateway {
  db: TestDatabase;
  orm: MikroORM;
  auth: Auth;
  gateway: Gateway;
  model: SecurityModel;
  queryLog: QueryLog;
  /** How the gateway's requests meet the security model and the database's policies. */
  requestContext: RequestContextOptions;
  /** Runs an operation through Apollo Server with a fresh request context, as an HTTP request would. */
  execute<T, V extends Record<string, unknown>>(
    document: TypedDocumentNode<T, V>,
    variables?: V,
    caller?: Caller,
  ): Promise<OperationResult<T>>;
  /** Like execute: the result as the HTTP endpoint serialises it, before it is parsed. */
  executeText<T, V extends Record<string, unknown>>(
    document: TypedDocumentNode<T, V>,
    variables?: V,
    caller?: Caller,
  ): Promise<string>;
  /**
   * Like execute, and also returns the SQL statements the operation ran: its data statements, and
   * apart from them the request transaction's framing (begin, the settings, commit or rollback).
   */
  executeCountingSql<T, V extends Record<string, unknown>>(
    document: TypedDocumentNode<T, V>,
    variables?: V,
    caller?: Caller,
  ): Promise<OperationResult<T> & { statements: string[]; framing: string[] }>;
  /** Logs `username` in (the demo password unless given) and returns the caller that sends its token. */
  callerFor(username: string, password?: string): Promise<Caller>;
  close(): Promise<void>;
}

export type { ResultOf, VariablesOf };

export { isTransactionFraming };

/**
 * Logs each of `usernames` in once; the returned function gives a user's caller and throws for any
 * other name (an unknown name must not fall back to the default superuser caller).
 */
export async function signIn(
  t: TestGateway,
  usernames: readonly string[],
): Promise<(username: string) => Caller> {
  const callers = new Map<string, Caller>();
  for (const username of usernames) callers.set(username, await t.callerFor(username));
  return (username) => {
    const caller = callers.get(username);
    if (!caller) throw new Error(`${username} was not signed in`);
    return caller;
  };
}

/** A gateway on its own copy of the seeded database. */
export async function startTestGateway(
  options: {
    empty?: boolean;
    pool?: Partial<PoolSettings>;
    log?: Logger;
    auth?: Partial<TestAuthConfig>;
    authEnv?: NodeJS.ProcessEnv;
    settings?: GatewaySettings;
    /** False: the test-only switch that leaves row security to the database's policies alone. */
    applicationRowFilter?: boolean;
    /**
     * False: requests run without their transaction and settings, as the test database's owner, whom
     * the policies do not bind: row security is the gateway's filter alone (the benchmark's baseline).
     */
    databaseLayer?: boolean;
    /**
     * False: reads return rows that graphql-js completes, never answers as PostgreSQL writes them
     * (src/http/response-splices.ts), over HTTP and in `execute`.
     */
    answersFromDatabase?: boolean;
    /** Declarations of the test's own instead of the demo's. */
    policy?: SecurityPolicy;
    /** A domain of the test's own (an imported one) instead of the demo. */
    domain?: Domain;
    /** A database the test prepared, served instead of a copy of the template (dropped on close). */
    database?: TestDatabase;
    /**
     * Migrate and seed the domain before serving it, as `npm start` does: how a domain of the test's
     * own (test/helpers/own-domain.ts) fills an `empty` database, where the template holds the demo's.
     */
    prepare?: boolean;
  } = {},
): Promise<TestGateway> {
  const db = options.database ?? (await createTestDatabase(options));
  const log = options.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const settings = options.settings ?? DEFAULT_GATEWAY_SETTINGS;
  const { orm, auth, gateway, model, queryLog, requestContext } = await assembleGateway({
    domain: options.domain ?? { ...northwind, policy: options.policy ?? northwind.policy },
    databaseUrl: db.url,
    log,
    pool: options.pool,
    auth: {
      config: { ...TEST_AUTH_CONFIG, ...options.auth },
      dataDir: '/nonexistent: tests always pass a secret or key',
      env: options.authEnv,
    },
    settings,
    applicationRowFilter: options.applicationRowFilter,
    databaseLayer: options.databaseLayer,
    answersFromDatabase: options.answersFromDatabase,
    prepare: options.prepare ? { seed: 'demo' } : undefined,
  }).catch(async (error: unknown) => {
    await db.drop();
    throw error;
  });

  /**
   * The operation's result serialised as the HTTP endpoint writes it: as over HTTP, reads answer as
   * PostgreSQL writes their rows where they can, and the answers go into the serialised result
   * (src/http/graphql-endpoint.ts).
   */
  const executeText: TestGateway['executeText'] = async (document, variables, caller) => {
    const identity: RequestIdentity = caller
      ? await auth.service.identify(caller.authorization ?? undefined)
      : { user: TEST_SUPERUSER };
    const responses = requestContext.answersFromDatabase === false ? undefined : new ResponseSplices();
    const deadline = requestDeadline(settings.requestTimeoutMs);
    const response = await gateway.apollo.executeOperation(
      { query: document, variables },
      {
        contextValue: createRequestContext(
          orm,
          log,
          { auth: auth.service, identity, clientAddress: '127.0.0.1', deadline, responses },
          requestContext,
        ),
      },
    );
    endDeadline(deadline);
    if (response.body.kind !== 'single') throw new Error('expected a single result');
    const text = JSON.stringify(response.body.singleResult);
    return responses?.marked ? responses.splice(text) : text;
  };
  const execute: TestGateway['execute'] = async (document, variables, caller) =>
    JSON.parse(await executeText(document, variables, caller)) as OperationResult<never>;

  return {
    db,
    orm,
    auth,
    gateway,
    model,
    queryLog,
    requestContext,
    execute,
    executeText,
    async executeCountingSql(document, variables, caller) {
      const statements: string[] = [];
      const framing: string[] = [];
      const stop = queryLog.listen((sql) => (isTransactionFraming(sql) ? framing : statements).push(sql));
      try {
        return { ...(await execute(document, variables, caller)), statements, framing };
      } finally {
        stop();
      }
    },
    async callerFor(username, password = DEMO_PASSWORD) {
      const login = await execute(LoginDocument, { username, password }, { authorization: null });
      if (!login.data) throw new Error(`login as ${username} failed: ${JSON.stringify(login.errors)}`);
      return { authorization: `Bearer ${login.data.login.accessToken}` };
    },
    async close() {
      await gateway.stop();
      await db.drop();
    },
  };
}
