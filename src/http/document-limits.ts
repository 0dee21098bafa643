import { type ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { ResultBound } from './result-bound.js';
import { variableBoundsPlugin } from './variable-bounds.js';

/**
 * Limits on what one GraphQL document may ask for, checked while it is parsed and validated: before
 * any resolver or SQL runs. GraphQL Armor counts through fragments and inline fragments. Each bounds
 * something the others do not:
 * - depth: how far one path reaches (and the recursion of every walk over the document);
 * - aliases: how often one field is asked again under another name (each alias resolves separately);
 * - directives and tokens: the parser's and validator's own work, before anything is counted;
 * - cost: the document's shape, expanded through fragments (a fragment spread many times costs what
 *   it expands to, which the token count cannot see), so validating and completing it stays cheap;
 * - result objects (MAX_RESULT_OBJECTS, src/http/result-bound.ts): the rows a document can make the
 *   gateway load and hold, which none of the above sees, since they do not read `limit`;
 * - variables (src/http/variable-bounds.ts): how deep and how many, which the tokens do not count.
 */
export const DOCUMENT_LIMITS = {
  depth: 12,
  aliases: 15,
  directives: 30,
  tokens: 2000,
  cost: 5000,
} as const;

/** The Apollo validation rules and plugins that enforce them. */
export function documentLimits(options: { maxResultObjects: number }) {
  const armor = new ApolloArmor({
    // Introspection is counted like any other query: skipping it opened a bypass through a
    // fragment named `__schema` in earlier versions. The limits leave room for Sandbox's introspection.
    maxDepth: { n: DOCUMENT_LIMITS.depth, ignoreIntrospection: false, flattenFragments: true },
    // Armor exempts `__typename` aliases by default; thousands of them still cost a response each.
    maxAliases: { n: DOCUMENT_LIMITS.aliases, allowList: [] },
    maxDirectives: { n: DOCUMENT_LIMITS.directives },
    // Counted by graphql-js's own parser instead (parseOptions below): Armor's parses the document a
    // second time in a plugin hook, whose refusal Apollo answered as a 500.
    maxTokens: { enabled: false },
    costLimit: { maxCost: DOCUMENT_LIMITS.cost, ignoreIntrospection: false, flattenFragments: true },
    // Schema hints ("Did you mean …?") are taken out of production messages in one place for every
    // step that raises them, the error formatter (src/errors.ts); Armor's own plugin would see only
    // validation errors.
    blockFieldSuggestion: { enabled: false },
  }).protect();
  const resultBound = new ResultBound(options.maxResultObjects);
  return {
    // A document over the limit is a syntax error, refused with status 400 like any other.
    parseOptions: { maxTokens: DOCUMENT_LIMITS.tokens },
    validationRules: armor.validationRules,
    // The result bound needs the variables (`limit: $n`), so it runs once the operation is resolved,
    // after validation and still before execution; the variables' own bounds before it, since it
    // coerces them.
    plugins: [...(armor.plugins as ApolloServerPlugin[]), variableBoundsPlugin(), resultBound.plugin()],
    resultBound,
  };
}
