import { type ApolloServerPlugin } from '@apollo/server';
import {
  type DocumentNode,
  type GraphQLField,
  GraphQLError,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isListType,
  isObjectType,
  type OperationDefinitionNode,
} from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { LRUCache } from 'lru-cache';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../api/query-arguments.js';

/**
 * How many items a list field may hold. The generic API's lists take `limit` (omitted or null: the
 * default, as the resolvers read it). A limit outside 0…MAX_LIMIT returns nothing: the field's
 * resolver refuses it with BAD_USER_INPUT before any SQL (src/api/query-arguments.ts), so it counts
 * as empty and the caller gets that more precise message. Introspection's lists are as long as the schema is. Any other list of objects has no bound the
 * gateway knows, so it counts as the largest page: a list added without `limit` fails closed.
 */
function listLength(field: GraphQLField<unknown, unknown>, args: Record<string, unknown>): number {
  const within = (length: unknown) =>
    typeof length === 'number' ? (length >= 0 && length <= MAX_LIMIT ? length : 0) : DEFAULT_LIMIT;
  // A connection is a page of `first` or `last` rows (both: refused); its edges are counted per row.
  if (isConnection(field)) return within(args.first ?? args.last);
  if (!isListType(getNullableType(field.type))) return 1;
  if (field.args.some((arg) => arg.name === 'limit')) return within(args.limit);
  if (isEdges(field)) return 1;
  return getNamedType(field.type).name.startsWith('__') ? 1 : MAX_LIMIT;
}

/** A connection field of the generic API: it pages by `first` and `last`. */
const isConnection = (field: GraphQLField<unknown, unknown>) =>
  ['first', 'last'].every((name) => field.args.some((arg) => arg.name === name));

/**
 * The edges of a connection, counted once per row of the connection (whose length is its page's):
 * each edge with its node is one object more than the row.
 */
const isEdges = (field: GraphQLField<unknown, unknown>) => {
  const type = getNamedType(field.type);
  return (
    field.name === 'edges' && isObjectType(type) && 'node' in type.getFields() && 'cursor' in type.getFields()
  );
};

/**
 * The objects a field can put into the result at worst: each item of a list (or the one object of a
 * to-one field, `me`, a mutation's payload) is an object, plus what its own selection holds, per item.
 * Scalars (ids, names, counts) are values of an object already counted. Summed over a selection and
 * multiplied down every path, this is the product of the list limits along every path.
 */
const resultObjects: ComplexityEstimator = ({ field, args, childComplexity }) =>
  isCompositeType(getNamedType(field.type)) ? listLength(field, args) * (1 + childComplexity) : 0;

/** The worst-case number of objects `operation` can return with these variables. */
export function worstCaseObjects(
  schema: GraphQLSchema,
  document: Parameters<typeof getComplexity>[0]['query'],
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): number {
  return getComplexity({
    schema,
    query: document,
    operationName: operation.name?.value,
    variables,
    estimators: [resultObjects],
  });
}

const figure = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** The refusals `resultTooLarge` made, for the metrics (src/http/metrics.ts). */
const refusals = new WeakSet<object>();

export const isResultBoundRefusal = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && refusals.has(error);

/** Refused like the other document limits: the document asks for too much, and nothing ran. */
export function resultTooLarge(objects: number, bound: number): GraphQLError {
  const asked = Number.isFinite(objects)
    ? `up to ${figure(objects)} objects`
    : 'more objects than can be counted';
  const refusal = new GraphQLError(
    `This document may return ${asked}; at most ${figure(bound)} are allowed ` +
      `(MAX_RESULT_OBJECTS). Ask for smaller pages: lower the limits of nested lists.`,
    { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } },
  );
  refusals.add(refusal);
  return refusal;
}

/** Variable sets remembered per document; a key longer than this (large inputs) is counted anew. */
const COUNTS_PER_DOCUMENT = 64;
const MAX_KEY_LENGTH = 2048;

/**
 * Refuses, before any resolver runs, an operation whose worst-case result exceeds `maxResultObjects`
 * (SPEC §8): Apollo's requests in its plugin, queries past Apollo by `admits` (src/http/query-fast-path.ts),
 * which leaves a refusal to Apollo. It runs in didResolveOperation rather than as a validation rule because `limit: $n`
 * counts with the variable's value, which validation does not see. One walk of the document per
 * document and variables: the count depends on nothing else (the schema is the gateway's), and
 * Apollo hands out the same parsed document for the same text, so a repeated request is counted once.
 */
export class ResultBound {
  // Per document: operation name and variables → the worst case, or null when the variables do not
  // fit their types (execution refuses them with its own error before any resolver runs).
  private readonly counted = new WeakMap<DocumentNode, LRUCache<string, { objects: number | null }>>();

  constructor(private readonly maxResultObjects: number) {}

  /** The worst case of `operation` with these variables; null when they do not fit their types. */
  objects(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Record<string, unknown> | undefined,
  ): number | null {
    const key = `${operation.name?.value ?? ''} ${JSON.stringify(variables ?? {})}`;
    let counts = this.counted.get(document);
    let known = key.length <= MAX_KEY_LENGTH ? counts?.get(key) : undefined;
    if (!known) {
      known = { objects: count(schema, document, operation, variables) };
      if (key.length <= MAX_KEY_LENGTH) {
        if (!counts) this.counted.set(document, (counts = new LRUCache({ max: COUNTS_PER_DOCUMENT })));
        counts.set(key, known);
      }
    }
    return known.objects;
  }

  /** Whether the variables fit their types and the worst case is within the bound: nothing to refuse. */
  admits(...request: Parameters<ResultBound['objects']>): boolean {
    const objects = this.objects(...request);
    return objects !== null && objects <= this.maxResultObjects;
  }

  plugin(): ApolloServerPlugin {
    return {
      requestDidStart: async () => ({
        didResolveOperation: async ({ schema, document, operation, request }) => {
          // Apollo answers a document without the requested operation itself, before this hook.
          if (!operation) return;
          const objects = this.objects(schema, document, operation, request.variables);
          if (objects !== null && objects > this.maxResultObjects)
            throw resultTooLarge(objects, this.maxResultObjects);
        },
      }),
    };
  }
}

function count(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): number | null {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {});
  if (coerced.errors) return null;
  try {
    return worstCaseObjects(schema, document, operation, variables);
  } catch {
    // Only a document too large to walk gets here (the walker's node cap): refuse it uncounted.
    return Infinity;
  }
}
