import { type ApolloServer, type BaseContext, HeaderMap } from '@apollo/server';
import { SpanKind } from '@opentelemetry/api';
import { type Request, type RequestHandler } from 'express';
import { inSpan } from '../tracing.js';
import { type ResponseSplices } from './response-splices.js';

/**
 * Apollo Server as an Express handler, after express.json(). It is what the official Express
 * integration does, less what that costs on every request for nothing here: Node's legacy URL parser
 * to find the query string, and Express's res.send, which hashes every response body into an ETag and
 * checks it for freshness, which a POST never is. The body then takes the answers PostgreSQL wrote
 * for it (src/http/response-splices.ts).
 */
export function graphqlEndpoint<Context extends BaseContext & { responses?: ResponseSplices }>(
  server: ApolloServer<Context>,
  context: (req: Request) => Promise<Context>,
): RequestHandler {
  server.assertStarted('graphqlEndpoint()');
  return async (req, res) => {
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    const queryAt = req.url.indexOf('?');
    let contextValue: Context | undefined;
    // One trace per request, continuing the client's `traceparent` (src/tracing.ts).
    const response = await inSpan('graphql request', { kind: SpanKind.SERVER, carrier: req.headers }, () =>
      server.executeHTTPGraphQLRequest({
        httpGraphQLRequest: {
          method: req.method.toUpperCase(),
          headers,
          search: queryAt < 0 ? '' : req.url.slice(queryAt),
          body: req.body as unknown,
        },
        context: async () => (contextValue = await context(req)),
      }),
    );
    for (const [key, value] of response.headers) res.setHeader(key, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      const responses = contextValue?.responses;
      res.end(responses?.marked ? responses.splice(response.body.string) : response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
