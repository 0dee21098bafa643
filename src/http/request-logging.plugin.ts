import { type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError } from 'graphql';
import { type RequestContext } from '../context.js';

/**
 * One log line per GraphQL request (operation, duration, outcome, error codes), and the full detail
 * of every unexpected error, which the response itself only reports as INTERNAL_SERVER_ERROR.
 */
export function requestLoggingPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (!(original instanceof GraphQLError)) {
              contextValue.log.error({ err: original, path: error.path }, 'unexpected error while resolving');
            }
          }
        },
        async willSendResponse({ response, operationName, errors }) {
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
