import { type ApolloServerPlugin } from '@apollo/server';
import { type FormattedExecutionResult } from 'graphql';
import { type RequestContext } from '../context.js';

/**
 * Holds each response until the request's root fields have settled (src/http/request-work.ts):
 * without this, work of a field still running after a sibling failed would outlive its request — it
 * would escape the shutdown drain (closing the pool under a running query hangs) and the SQL it runs
 * would be attributed to nobody. Then the request's transaction commits; if that fails, the
 * response says so. Only a result that stands takes the answers its reads left for the body
 * (src/http/response-splices.ts).
 */
export async function settleResponse(
  contextValue: RequestContext,
  result: FormattedExecutionResult,
): Promise<void> {
  await contextValue.work.settled();
  try {
    await contextValue.transaction?.close();
  } catch (error) {
    contextValue.log.error({ err: error }, 'the request transaction did not commit');
    // A request that succeeded must not claim it was saved; one that already failed says so.
    if (!result.errors?.length) {
      result.data = null;
      result.errors = [
        {
          message: 'The changes could not be saved. Try again.',
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: contextValue.requestId },
        },
      ];
    }
  }
  // Whatever data stands takes its answers (none where it was nulled).
  contextValue.responses?.mark(result.data);
}

/** settleResponse for every response Apollo sends. */
export function settleResolversPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          // Apollo sends nothing else here: incremental delivery (@defer) is not enabled.
          await settleResponse(
            contextValue,
            response.body.kind === 'single' ? response.body.singleResult : {},
          );
        },
      };
    },
  };
}
