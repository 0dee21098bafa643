import { ApolloArmor } from '@escape.tech/graphql-armor';

/**
 * Limits on what one GraphQL document may ask for, checked while it is parsed and validated: before
 * any resolver or SQL runs. GraphQL Armor counts through fragments and inline fragments.
 */
export const DOCUMENT_LIMITS = {
  depth: 12,
  aliases: 15,
  directives: 30,
  tokens: 2000,
  cost: 5000,
} as const;

/** The Apollo options (plugins, validation rules, no batching, no stack traces) that enforce them. */
export function documentLimits(options: { production: boolean; maxResultObjects: number }) {
  return new ApolloArmor({
    // Introspection is counted like any other query: skipping it opened a bypass through a
    // fragment named `__schema` in earlier versions. The limits leave room for Sandbox's introspection.
    maxDepth: { n: DOCUMENT_LIMITS.depth, ignoreIntrospection: false, flattenFragments: true },
    // Armor exempts `__typename` aliases by default; thousands of them still cost a response each.
    maxAliases: { n: DOCUMENT_LIMITS.aliases, allowList: [] },
    maxDirectives: { n: DOCUMENT_LIMITS.directives },
    maxTokens: { n: DOCUMENT_LIMITS.tokens },
    costLimit: { maxCost: DOCUMENT_LIMITS.cost, ignoreIntrospection: false, flattenFragments: true },
    // "Did you mean …?" tells a stranger the schema; hide it in production.
    blockFieldSuggestion: { enabled: options.production },
  }).protect();
}
