import { type ApolloServer, type BaseContext, HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { SpanKind } from '@opentelemetry/api';
import { type Request, type RequestHandler } from 'express';
import { type RequestContext } from '../context.js';
import { inSpan } from '../tracing.js';
import { type QueryFastPath } from './query-fast-path.js';
import { endDeadline } from './request-deadline.js';

/**
 * Apollo Server as an Express handler, after express.json(). It is what the official Express
 * integration does, less what that costs on every request for nothing here: Node's legacy URL parser
 * to find the query string, and Express's res.send, which hashes every response body into an ETag and
 * checks it for freshness, which a POST never is. A query Apollo has seen before is answered past it
 * (src/http/query-fast-path.ts). The body then takes the answers PostgreSQL wrote for it
 * (src/http/response-splices.ts).
 */
export function graphqlEndpoint<Context extends BaseContext & RequestContext>(
  server: ApolloServer<Context>,
  context: (req: Request) => Promise<Context>,
  fastPath: QueryFastPath,
): RequestHandler {
  server.assertStarted('graphqlEndpoint()');
  const throughApollo = (req: Request, contextValue: () => Promise<Context>) => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const queryAt = req.url.indexOf('?');
    return server.executeHTTPGraphQLRequest({
      httpGraphQLRequest: {
        method: req.method.toUpperCase(),
        headers,
        search: queryAt < 0 ? '' : req.url.slice(queryAt),
        body: req.body as unknown,
      },
      context: contextValue,
    });
  };
  return async (req, res) => {
    let contextValue: Context | undefined;
    const answer = async (): Promise<HTTPGraphQLResponse> => {
      const known = fastPath.known(req);
      if (!known) return throughApollo(req, async () => (contextValue = await context(req)));
      // Made once, before either path: Apollo gets it, or its failure, where this path declines.
      const created = context(req);
      const made = await created.catch(() => undefined);
      if (!made) return throughApollo(req, () => created);
      contextValue = made;
      return (await fastPath.respond(known, made)) ?? throughApollo(req, async () => made);
    };
    // One trace per request, continuing the client's `traceparent` (src/tracing.ts).
    const response = await inSpan('graphql request', { kind: SpanKind.SERVER, carrier: req.headers }, answer);
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const responses = contextValue?.responses;
      res.end(responses?.marked ? responses.splice(response.body.string) : response.body.string);
    } else {
      for await (const chunk of response.body.asyncIterator) res.write(chunk);
      res.end();
    }
    // Answered: every resolver has settled and the transaction has ended (settle-resolvers.plugin.ts).
    // A request that failed on the way keeps its deadline, which cancels what may still run.
    if (contextValue) endDeadline(contextValue.deadline);
  };
}
