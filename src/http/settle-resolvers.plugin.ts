import { type ApolloServerPlugin } from '@apollo/server';
import { type RequestContext } from '../context.js';

/**
 * Holds each response until every resolver of the request has settled. graphql-js 16 answers as soon
 * as one root field fails (its Promise.all rejects early) while sibling fields may still be querying
 * the database. Without this, that work would outlive its request: it would escape the shutdown drain
 * (closing the pool under a running query hangs) and the SQL it runs would be attributed to nobody.
 * Once everything settled, the request's transaction commits; if that fails, the response says so.
 */
export function settleResolversPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      let pending = 0;
      let whenSettled: (() => void) | undefined;
      return {
        async executionDidStart() {
          return {
            willResolveField() {
              pending++;
              return () => {
                if (--pending === 0) whenSettled?.();
              };
            },
          };
        },
        async willSendResponse({ contextValue, response }) {
          if (pending > 0) await new Promise<void>((resolve) => (whenSettled = resolve));
          try {
            await contextValue.transaction?.close();
          } catch (error) {
            contextValue.log.error({ err: error }, 'the request transaction did not commit');
            // A request that already failed says so; one that succeeded must not claim it was saved.
            if (response.body.kind !== 'single' || response.body.singleResult.errors?.length) return;
            const result = response.body.singleResult;
            result.data = null;
            result.errors = [
              {
                message: 'The changes could not be saved. Try again.',
                extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: contextValue.requestId },
              },
            ];
          }
        },
      };
    },
  };
}
