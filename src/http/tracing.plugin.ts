import { type ApolloServerPlugin } from '@apollo/server';
import { startSpan } from '../tracing.js';

/** Spans for parsing and validating each request's document (src/tracing.ts). */
export function tracingPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async parsingDidStart() {
          const end = startSpan('graphql.parse');
          return async (error) => end(error);
        },
        async validationDidStart() {
          const end = startSpan('graphql.validate');
          return async (errors) => end(errors?.[0]);
        },
      };
    },
  };
}
