import { randomUUID } from 'node:crypto';
import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { type GraphQLError } from 'graphql';
import { RequestSecurity } from '../security/system/request-security.js';
import { leaveRowsToTheDatabase, restrictTo } from '../security/system/row-security.js';
import { type SecurityModel } from '../security/system/security-model.js';
import { type CompiledStatements } from './api/compiled-statements.js';
import { type AuthService, type RequestIdentity } from './auth/auth-service.js';
import { type DatabaseSecurity, RequestTransaction, requestSettings } from './db/request-transaction.js';
import { untilDeadline } from './http/request-deadline.js';
import { RequestWork } from './http/request-work.js';
import { type ResponseSplices } from './http/response-splices.js';
import { type Logger } from './logger.js';

/**
 * Everything a resolver may use for one request. Resolvers reach the database only through `em`,
 * a fork of the ORM's EntityManager made for this request alone: its identity map is never shared,
 * and it is where the per-request security filters attach.
 */
export interface RequestContext {
  requestId: string;
  /** The request's fork; reading it after the request's deadline throws RequestDeadlineExceeded. */
  em: EntityManager;
  /** Fires at the request's deadline; statements run outside MikroORM's execute() take it too. */
  deadline: AbortSignal;
  /** The root fields still running, which the response waits for before the transaction ends. */
  work: RequestWork;
  log: Logger;
  identity: RequestIdentity;
  auth: AuthService;
  /** For login throttling per client address. */
  clientAddress: string;
  /** The security questions of an authenticated request; absent for anonymous ones. */
  security?: RequestSecurity;
  /** The authenticated request's transaction, which carries the user to the database's policies. */
  transaction?: RequestTransaction;
  /** The gateway's compiled read statements; absent, every read is compiled anew. */
  statements?: CompiledStatements;
  /** The relations the request's reads left out, and why: their fields resolve to these errors. */
  refusedRelations: Map<string, GraphQLError>;
  /** Where reads put answers the response takes as PostgreSQL wrote them; absent, reads return rows. */
  responses?: ResponseSplices;
}

/** Per gateway: the compiled security model, how requests meet the database's policies, and the test and benchmark switches. */
export interface RequestContextOptions {
  model: SecurityModel;
  databaseSecurity: DatabaseSecurity;
  /** False only in tests that show the database's policies alone keep tenants apart. */
  applicationRowFilter?: boolean;
  /** False only in the benchmark's baseline: requests run without the transaction and its settings. */
  databaseLayer?: boolean;
  /** The gateway's compiled read statements, shared by its requests (keyed by identity, see there). */
  statements?: CompiledStatements;
  /**
   * False only in the differential test and the benchmark's comparison: HTTP requests' reads return
   * rows for graphql-js to complete, not answers as PostgreSQL writes them (src/http/response-splices.ts).
   */
  answersFromDatabase?: boolean;
  /** False only in the differential test of src/http/query-fast-path.ts: every request goes through Apollo. */
  queriesPastApollo?: boolean;
}

export function createRequestContext(
  orm: MikroORM,
  log: Logger,
  request: {
    auth: AuthService;
    identity: RequestIdentity;
    clientAddress: string;
    /** Fires at the request's deadline: the query in flight is cancelled in PostgreSQL, and the request fails. */
    deadline: AbortSignal;
    responses?: ResponseSplices;
  },
  options: RequestContextOptions,
): RequestContext {
  const requestId = randomUUID();
  const { deadline } = request;
  const em = orm.em.fork({
    loggerContext: { requestId },
    signal: deadline,
    // The request stops waiting at once; the pool's client cancels the statement itself, which frees
    // the connection (src/db/preparing-client.ts), and an aborted write rolls back. Kysely's own
    // cancel would wait for a free connection of the pool to send it on.
    inflightQueryAbortStrategy: 'ignore query',
  });
  // An anonymous request gets no user: any read it attempts fails instead of reading unfiltered.
  const user = request.identity.user;
  const security = user ? new RequestSecurity(options.model, user) : undefined;
  if (security && options.applicationRowFilter === false) leaveRowsToTheDatabase(em);
  else if (security) restrictTo(em, security);
  // The one way the request's work reaches its fork: past the deadline, nothing new starts.
  const emInTime = untilDeadline(deadline, em);
  return new RequestContextValue(emInTime, {
    requestId,
    work: new RequestWork(),
    security,
    transaction:
      security && options.databaseLayer !== false
        ? new RequestTransaction(em, requestSettings(security, options.databaseSecurity), emInTime)
        : undefined,
    log: log.child({ requestId, user: request.identity.user?.id }),
    statements: options.statements,
    refusedRelations: new Map(),
    ...request,
  });
}

/**
 * The context as a class so that `em` is a getter on the prototype: Apollo copies each operation's
 * context with Object.assign onto an object of the same prototype, which would turn a getter of the
 * object itself into the value it returned then, and the deadline would no longer be checked.
 */
class RequestContextValue implements RequestContext {
  requestId!: string;
  work!: RequestWork;
  deadline!: AbortSignal;
  log!: Logger;
  identity!: RequestIdentity;
  auth!: AuthService;
  clientAddress!: string;
  security?: RequestSecurity;
  transaction?: RequestTransaction;
  statements?: CompiledStatements;
  refusedRelations!: Map<string, GraphQLError>;
  responses?: ResponseSplices;

  constructor(
    private readonly emInTime: () => EntityManager,
    fields: Omit<RequestContext, 'em'>,
  ) {
    Object.assign(this, fields);
  }

  get em(): EntityManager {
    return this.emInTime();
  }
}
