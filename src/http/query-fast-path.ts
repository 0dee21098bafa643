import {
  type ApolloServerPlugin,
  HeaderMap,
  type HTTPGraphQLHead,
  type HTTPGraphQLResponse,
} from '@apollo/server';
import { type Request } from 'express';
import {
  type DocumentNode,
  execute,
  type ExecutionResult,
  type FormattedExecutionResult,
  getOperationAST,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import Negotiator from 'negotiator';
import { type RequestContext } from '../context.js';
import { formattedErrors } from './formatted-errors.js';
import { type GatewayMetrics } from './metrics.js';
import { logRequestErrors, logResponse } from './request-logging.plugin.js';
import { type ResultBound } from './result-bound.js';
import { settleResponse } from './settle-resolvers.plugin.js';
import { exceededVariableBound } from './variable-bounds.js';

/** Apollo Server's media types for a single result, in its order of preference. */
const JSON_TYPE = 'application/json; charset=utf-8';
const SINGLE_RESULT_TYPES = [
  JSON_TYPE,
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/** A request this path answers: a query Apollo has validated, within every bound; nothing of it has run. */
export interface KnownQuery {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | undefined;
  variables: Record<string, unknown> | undefined;
  contentType: string;
}

/**
 * Queries answered past Apollo's request pipeline, which costs a small read about a tenth of the
 * gateway's CPU (README, Performance: hashing the text to find its parsed document, negotiating the
 * media type twice, a dozen plugin hooks): a POST of a query whose text Apollo has already
 * parsed and validated, with variables that fit their types and every bound, runs graphql-js's
 * execute with the request's context, and the response is settled, logged, counted and written
 * by the same functions as Apollo's plugins. Anything else — a new text, a mutation, a GET, an
 * `extensions` (persisted queries), variables refused or over a bound, an Accept no JSON fits —
 * goes to Apollo before any of it runs, and Apollo answers it as always. What the two paths send is
 * held to the same bytes, status and headers by test/http/query-fast-path.test.ts. A plugin added to
 * Apollo's list does not see these queries: what it does for a query belongs here as well.
 */
export class QueryFastPath {
  /**
   * Query texts Apollo validated, with their documents, bounded by an estimate of their memory: a
   * parsed document keeps every token with its location, ~500 bytes each (a 2,000-token document,
   * the most the parser takes, holds ~1 MB whatever its text's length).
   */
  private readonly documents = new LRUCache<string, DocumentNode>({
    max: 1000,
    maxSize: 32 * 1024 * 1024,
    sizeCalculation: (document) => BYTES_PER_TOKEN * tokensOf(document),
  });
  /** Accept headers as Apollo negotiates them, a few per client library. */
  private readonly contentTypes = new LRUCache<string, { type: string | null }>({ max: 100 });

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly options: {
      formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
      resultBound: ResultBound;
      metrics: GatewayMetrics;
      /** False only in the differential test: every request goes through Apollo. */
      enabled: () => boolean;
    },
  ) {}

  /** Keeps each query document Apollo has parsed and validated, by its text. */
  plugin(): ApolloServerPlugin<RequestContext> {
    return {
      requestDidStart: async () => ({
        didResolveOperation: async ({ source, document, operation }) => {
          if (operation?.operation === 'query') this.documents.set(source, document);
        },
      }),
    };
  }

  /** The request's query when this path answers it, decided before anything of it runs. */
  known(req: Request): KnownQuery | undefined {
    if (req.method !== 'POST' || !this.options.enabled()) return undefined;
    // A body is here only where express.json() parsed it (graphql-endpoint.ts): its content type is
    // application/json, which Apollo's CSRF rule passes (a browser cannot send it cross-site without
    // a preflight). Anything else has no body, and goes to Apollo.
    const body: unknown = req.body;
    if (!isRecord(body) || (body.extensions !== undefined && body.extensions !== null)) return undefined;
    const { query, variables, operationName } = body;
    const document = typeof query === 'string' ? this.documents.get(query) : undefined;
    if (!document) return undefined;
    if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string')
      return undefined;
    const operation = getOperationAST(document, operationName ?? undefined);
    if (operation?.operation !== 'query') return undefined;
    const values = variables ?? undefined;
    if (exceededVariableBound(values ?? {})) return undefined;
    if (!this.options.resultBound.admits(this.schema, document, operation, values)) return undefined;
    const contentType = this.contentType(req.headers.accept);
    if (!contentType) return undefined;
    return { document, operation, operationName: operationName ?? undefined, variables: values, contentType };
  }

  /**
   * Executes a known query in `contextValue` and answers it as Apollo would; undefined, with nothing
   * run, where graphql-js refused the request before any field (Apollo then answers it).
   */
  async respond(query: KnownQuery, contextValue: RequestContext): Promise<HTTPGraphQLResponse | undefined> {
    const started = performance.now();
    const http: HTTPGraphQLHead = { status: undefined, headers: new HeaderMap() };
    let result: ExecutionResult;
    try {
      result = await execute({
        schema: this.schema,
        document: query.document,
        contextValue,
        variableValues: query.variables,
        operationName: query.operationName,
      });
      // graphql-js refuses variables or the operation before any field runs; `known` has checked
      // both, so this is Apollo's answer only should the two checks ever disagree.
      if (result.data === undefined) return undefined;
    } catch (error) {
      // What Apollo answers for an execution that threw rather than returned its errors.
      result = { errors: [asGraphQLError(error)] };
      http.status = 500;
    }
    const { errors } = result;
    if (errors) logRequestErrors(contextValue, errors);
    const response: FormattedExecutionResult = {
      errors: errors && formattedErrors(errors, this.options.formatError, http),
      data: result.data,
      extensions: result.extensions,
    };
    // In the order of Apollo's willSendResponse hooks: the settling waits for the request's work
    // while the log line and the count are taken.
    const settled = settleResponse(contextValue, response);
    const operationName = query.operation.name?.value;
    logResponse(contextValue, { started, operationName, errors, http, result: response });
    this.options.metrics.countRequest({ started, operation: query.operation, errors, single: true });
    await settled;
    http.headers.set('content-type', query.contentType);
    const { errors: sentErrors, data, extensions } = response;
    return {
      ...http,
      body: { kind: 'complete', string: `${JSON.stringify({ errors: sentErrors, data, extensions })}\n` },
    };
  }

  /** The media type Apollo answers a single result in for this Accept header; undefined: none fits (406). */
  private contentType(accept: string | undefined): string | undefined {
    if (!accept) return JSON_TYPE;
    let negotiated = this.contentTypes.get(accept);
    if (!negotiated) {
      negotiated = { type: new Negotiator({ headers: { accept } }).mediaType(SINGLE_RESULT_TYPES) ?? null };
      this.contentTypes.set(accept, negotiated);
    }
    return negotiated.type ?? undefined;
  }
}

const BYTES_PER_TOKEN = 512;

/** The tokens the parser kept for `document` (at most the parser's maxTokens). */
function tokensOf(document: DocumentNode): number {
  let tokens = 1;
  for (let token = document.loc?.startToken; token?.next; token = token.next) tokens++;
  return tokens;
}

/** A JSON object, as Apollo takes a request body or its variables. */
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A thrown value as Apollo reports it (its ensureGraphQLError). */
function asGraphQLError(thrown: unknown): GraphQLError {
  if (thrown instanceof GraphQLError) return thrown;
  if (thrown instanceof Error) return new GraphQLError(thrown.message, { originalError: thrown });
  return new GraphQLError(`Unexpected error value: ${String(thrown)}`);
}
