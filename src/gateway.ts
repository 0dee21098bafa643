import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { type MikroORM } from '@mikro-orm/postgresql';
import express from 'express';
import { buildGatewaySchema } from './api/schema.js';
import { type Auth } from './auth/create-auth.js';
import { createRequestContext, type RequestContext, type RequestContextOptions } from './context.js';
import { DEFAULT_MAX_RESULT_OBJECTS } from './config.js';
import { errorFormatter } from './errors.js';
import { authRoutes } from './http/auth-routes.js';
import { documentLimits } from './http/document-limits.js';
import { ResponseSplices } from './http/response-splices.js';
import { graphqlEndpoint } from './http/graphql-endpoint.js';
import { QueryFastPath } from './http/query-fast-path.js';
import { healthRoutes } from './http/health.js';
import { GatewayMetrics, metricsOnly, metricsRoutes } from './http/metrics.js';
import { HttpDrain } from './http/http-drain.js';
import { assetRoutes } from './http/pages/assets-routes.js';
import { consoleRoutes } from './http/pages/console-routes.js';
import { explorerRoutes } from './http/pages/explorer-routes.js';
import { httpErrors, notFound } from './http/http-errors.js';
import { requestDeadline } from './http/request-deadline.js';
import { requestLoggingPlugin } from './http/request-logging.plugin.js';
import { settleResolversPlugin } from './http/settle-resolvers.plugin.js';
import { tracingPlugin } from './http/tracing.plugin.js';
import { type Logger } from './logger.js';

/** Request bodies larger than this are refused before parsing (HTTP 413). */
const MAX_BODY = '1mb';

export interface Gateway {
  apollo: ApolloServer<RequestContext>;
  httpServer: Server;
  /** Starts listening; resolves with the GraphQL endpoint's URL. */
  listen(port: number, host: string): Promise<string>;
  /**
   * Drains, then stops (SPEC §12, src/http/http-drain.ts): for `graceMs` `/readyz` answers 503 while
   * every request is still served; then the listener closes, responses close their connections, the
   * in-flight requests finish, and the auth and ORM pools close.
   */
  stop(graceMs?: number): Promise<void>;
}

export interface GatewaySettings {
  /** NODE_ENV=production: no landing page, no schema hints in errors. */
  production: boolean;
  introspection: boolean;
  /** REQUEST_TIMEOUT: a request's queries are cancelled after this long. */
  requestTimeoutMs: number;
  /** MAX_RESULT_OBJECTS: the largest worst-case result a document may ask for. */
  maxResultObjects: number;
  /** TRUST_PROXY (Express's `trust proxy`); absent, the client address is the socket's. */
  trustProxy?: boolean | number | string;
  /** METRICS_PORT and METRICS_HOST: `/metrics` also served there, without authentication. */
  metricsListener?: { port: number; host: string };
}

export const DEFAULT_GATEWAY_SETTINGS: GatewaySettings = {
  production: false,
  introspection: true,
  requestTimeoutMs: 30_000,
  maxResultObjects: DEFAULT_MAX_RESULT_OBJECTS,
};

/** Builds the HTTP server and Apollo Server around an initialised ORM; importable by tests. */
export async function createGateway(options: {
  orm: MikroORM;
  log: Logger;
  auth: Auth;
  settings?: GatewaySettings;
  requestContext: RequestContextOptions;
}): Promise<Gateway> {
  const { orm, log } = options;
  const settings = options.settings ?? DEFAULT_GATEWAY_SETTINGS;
  const { production, introspection, requestTimeoutMs } = settings;
  const auth = options.auth.service;
  const limits = documentLimits({ maxResultObjects: settings.maxResultObjects });
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  // Longer than a proxy keeps an idle upstream connection (nginx: 60 s): the side that closes an idle
  // connection should be the one that would send the next request on it, or the two race and a
  // request sent as the gateway closes is lost. Headers must be allowed as long, or Node closes first.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const drain = new HttpDrain(httpServer);
  app.use(drain.closeConnectionsWhenClosing);
  const schema = await buildGatewaySchema(orm, options.requestContext.model);
  const metrics = new GatewayMetrics({ orm, statements: options.requestContext.statements });
  const formatError = errorFormatter({ production });
  const fastPath = new QueryFastPath(schema, {
    formatError,
    resultBound: limits.resultBound,
    metrics,
    enabled: () => options.requestContext.queriesPastApollo !== false,
  });
  const apollo = new ApolloServer<RequestContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection,
    // A browser cannot send a "simple" cross-site request that Apollo executes; GET cannot mutate.
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    parseOptions: limits.parseOptions,
    validationRules: limits.validationRules,
    plugins: [
      settleResolversPlugin(),
      requestLoggingPlugin(),
      metrics.plugin(),
      tracingPlugin(),
      fastPath.plugin(),
      // With APOLLO_KEY set Apollo would report usage to GraphOS, and miss the queries answered past it;
      // the gateway's figures are its Prometheus metrics.
      ApolloServerPluginUsageReportingDisabled(),
      // The gateway sets no cache hints; Apollo's default cache-control plugin would still hook every
      // field of every row (willResolveField), which is most of the per-field cost of a large read.
      ApolloServerPluginCacheControlDisabled(),
      ...(limits.plugins as ApolloServerPlugin<RequestContext>[]),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await apollo.start();

  // The client address (login throttles, logs) is the socket's unless TRUST_PROXY names the proxies
  // whose X-Forwarded-For may be believed: anyone can send that header.
  app.set('trust proxy', settings.trustProxy ?? false);
  // The GraphQL endpoint first: most requests are its, and no other route is under /graphql.
  app.use(
    '/graphql',
    express.json({ limit: MAX_BODY }),
    graphqlEndpoint(
      apollo,
      async (req) =>
        createRequestContext(
          orm,
          log,
          {
            auth,
            identity: await auth.identify(req.headers.authorization),
            clientAddress: req.ip ?? 'unknown',
            deadline: requestDeadline(requestTimeoutMs),
            responses:
              options.requestContext.answersFromDatabase === false ? undefined : new ResponseSplices(),
          },
          options.requestContext,
        ),
      fastPath,
    ),
  );
  app.use(healthRoutes(orm, () => drain.draining));
  app.use(metricsRoutes(metrics, { auth, production }));
  app.use(authRoutes(auth));
  app.use(assetRoutes());
  // The offline explorer shows the schema, so it is there exactly when introspection is.
  if (introspection) app.use(explorerRoutes(schema));
  app.use(
    consoleRoutes({
      explain: {
        orm,
        model: options.requestContext.model,
        databaseSecurity: options.requestContext.databaseSecurity,
      },
      auth,
      production,
    }),
  );
  app.use(notFound, httpErrors(log));

  const metricsServer = settings.metricsListener ? createServer(metricsOnly(metrics)) : undefined;
  let stopping: Promise<void> | undefined;
  return {
    apollo,
    httpServer,
    listen: async (port, host) => {
      const url = `${await listenOn(httpServer, port, host)}/graphql`;
      if (metricsServer) {
        const metricsUrl = await listenOn(
          metricsServer,
          settings.metricsListener!.port,
          settings.metricsListener!.host,
        );
        log.info({ url: `${metricsUrl}/metrics` }, 'metrics served without authentication');
      }
      return url;
    },
    stop: (graceMs = 0) =>
      (stopping ??= (async () => {
        // Every connection has ended before Apollo stops: it would refuse what is still in flight.
        if (httpServer.listening) await drain.drain(graceMs, requestTimeoutMs);
        if (metricsServer?.listening) {
          metricsServer.closeAllConnections();
          await new Promise((resolve) => metricsServer.close(resolve));
        }
        await apollo.stop();
        await options.auth.close();
        await orm.close();
      })()),
  };
}

/** Listens on `host:port`; resolves with the server's origin (`http://host:port`). */
function listenOn(server: Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address() as AddressInfo;
      const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolve(`http://${shownHost}:${address.port}`);
    });
  });
}
