import { type ApolloServerPlugin, type HTTPGraphQLHead } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { type FormattedExecutionResult, GraphQLError } from 'graphql';
import { type RequestContext } from '../context.js';
import { denialOf, serviceCondition } from '../errors.js';

/**
 * One log line per GraphQL request (operation, duration, outcome, error codes), the rule behind each
 * denial, and the full detail of every unexpected error, which the response only reports as
 * INTERNAL_SERVER_ERROR with the request id (also in the x-request-id header) to find it by. Apollo's
 * requests reach these through the plugin below; queries past it (src/http/query-fast-path.ts) directly.
 */
export function logRequestErrors(contextValue: RequestContext, errors: readonly GraphQLError[]): void {
  for (const error of errors) {
    const original = unwrapResolverError(error);
    // A denial's rule reaches a production client only as this line, found by the request id.
    const denial = denialOf(original);
    if (denial) contextValue.log.info({ ...denial, path: error.path }, 'denied by rule');
    if (!(original instanceof GraphQLError)) {
      const condition = serviceCondition(original);
      // A busy pool, the deadline or the database away is the service's state, not a bug: a
      // warning without a stack, so that load does not bury real errors in the log.
      if (condition) contextValue.log.warn({ reason: String(original), path: error.path }, condition);
      else contextValue.log.error({ err: original, path: error.path }, 'unexpected error while resolving');
    }
  }
}

/** Marks the response with the request id and writes the request's log line. */
export function logResponse(
  contextValue: RequestContext,
  request: {
    started: number;
    operationName: string | null | undefined;
    errors: readonly GraphQLError[] | undefined;
    http: HTTPGraphQLHead;
    result: FormattedExecutionResult | undefined;
  },
): void {
  // The request id ties a masked error in a response to its detail in the log.
  request.http.headers.set('x-request-id', contextValue.requestId);
  for (const error of request.result?.errors ?? []) {
    if (error.extensions?.code === 'INTERNAL_SERVER_ERROR') {
      (error.extensions as Record<string, unknown>).requestId = contextValue.requestId;
    }
  }
  const codes = [
    ...new Set((request.errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'))),
  ];
  contextValue.log.info(
    {
      operationName: request.operationName ?? null,
      durationMs: Math.round((performance.now() - request.started) * 10) / 10,
      outcome: codes.length ? 'error' : 'ok',
      ...(codes.length ? { errorCodes: codes } : {}),
      status: request.http.status ?? 200,
    },
    'graphql request',
  );
}

export function requestLoggingPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          logRequestErrors(contextValue, errors);
        },
        async willSendResponse({ response, operationName, errors }) {
          logResponse(contextValue, {
            started,
            operationName,
            errors,
            http: response.http,
            result: response.body.kind === 'single' ? response.body.singleResult : undefined,
          });
        },
      };
    },
  };
}
