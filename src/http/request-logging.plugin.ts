import { type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import { type RequestContext } from '../context.js';
import { denialOf, serviceCondition } from '../errors.js';

/**
 * One log line per GraphQL request (operation, duration, outcome, error codes), the rule behind each
 * denial, and the full detail of every unexpected error, which the response only reports as
 * INTERNAL_SERVER_ERROR with the request id (also in the x-request-id header) to find it by.
 */
export function requestLoggingPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
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
              else
                contextValue.log.error(
                  { err: original, path: error.path },
                  'unexpected error while resolving',
                );
            }
          }
        },
        async willSendResponse({ response, operationName, errors }) {
          // The request id ties a masked error in a response to its detail in the log.
          response.http.headers.set('x-request-id', contextValue.requestId);
          if (response.body.kind === 'single') {
            for (const error of response.body.singleResult.errors ?? []) {
              if (error.extensions?.code === 'INTERNAL_SERVER_ERROR') {
                (error.extensions as Record<string, unknown>).requestId = contextValue.requestId;
              }
            }
          }
          const codes = [
            ...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'))),
          ];
          contextValue.log.info(
            {
              operationName: operationName ?? null,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              outcome: codes.length ? 'error' : 'ok',
              ...(codes.length ? { errorCodes: codes } : {}),
              status: response.http.status ?? 200,
            },
            'graphql request',
          );
        },
      };
    },
  };
}
