import { type ApolloServerPlugin } from '@apollo/server';

/**
 * Holds each response until every resolver of the request has settled. graphql-js 16 answers as soon
 * as one root field fails (its Promise.all rejects early) while sibling fields may still be querying
 * the database. Without this, that work would outlive its request: it would escape the shutdown drain
 * (closing the pool under a running query hangs) and the SQL it runs would be attributed to nobody.
 */
export function settleResolversPlugin(): ApolloServerPlugin {
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
        async willSendResponse() {
          if (pending > 0) await new Promise<void>((resolve) => (whenSettled = resolve));
        },
      };
    },
  };
}
