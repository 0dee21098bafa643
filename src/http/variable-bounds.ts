import { type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';

/**
 * Bounds on a request's variables as sent, checked before graphql-js coerces them: coercion recurses
 * once per level (a `where` nested 4,000 levels overflowed the stack) and its work grows with every
 * value (an `OR` of 100 × 1000 values took a second of the gateway and asked PostgreSQL for more bind
 * parameters than it takes). The document itself is bounded by its tokens (src/http/document-limits.ts);
 * variables are what a client can make large without it.
 * - depth: how deeply lists and objects nest; a `where` at its own limit (MAX_WHERE_DEPTH levels of
 *   AND/OR/NOT) is about 20 deep, a JSON column's value may use the rest;
 * - values: every value of every variable (each string, number, boolean, null, list and object), so
 *   the conditions, the values and the bind parameters they become are bounded in total.
 */
export const MAX_VARIABLE_DEPTH = 32;
export const MAX_VARIABLE_VALUES = 10_000;

/** The bound the variables exceed, or undefined. A walk with its own stack: it never recurses. */
export function exceededVariableBound(variables: unknown): string | undefined {
  const pending: [unknown, number][] = [[variables, 0]];
  let values = 0;
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (++values > MAX_VARIABLE_VALUES)
      return `The variables hold more than ${MAX_VARIABLE_VALUES} values (MAX_VARIABLE_VALUES); send smaller lists`;
    if (depth > MAX_VARIABLE_DEPTH)
      return `The variables nest more than ${MAX_VARIABLE_DEPTH} levels deep (MAX_VARIABLE_DEPTH)`;
    if (value !== null && typeof value === 'object')
      for (const child of Object.values(value)) pending.push([child, depth + 1]);
  }
  return undefined;
}

/** Refuses a request whose variables exceed a bound, before anything reads them. */
export function variableBoundsPlugin(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request }) {
          const exceeded = exceededVariableBound(request.variables ?? {});
          if (exceeded)
            throw new GraphQLError(exceeded, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
        },
      };
    },
  };
}
