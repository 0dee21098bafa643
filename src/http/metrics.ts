import { type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { type RequestListener } from 'node:http';
import { type MikroORM } from '@mikro-orm/postgresql';
import { type Router, Router as createRouter } from 'express';
import { type GraphQLError, type OperationDefinitionNode } from 'graphql';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { isSuperuser } from '../../security/system/identity.js';
import { type CompiledStatements } from '../api/compiled-statements.js';
import { type AuthService } from '../auth/auth-service.js';
import { poolState } from '../db/pool-state.js';
import { denialOf } from '../errors.js';
import { type RequestContext } from '../context.js';
import { isResultBoundRefusal } from './result-bound.js';

/**
 * The gateway's Prometheus metrics (SPEC §12), with prom-client: one registry per gateway, so that
 * two gateways of one process (tests) count apart. Requests, denials, logins and result-bound
 * refusals are counted from each request's outcome (`plugin`); the pool and the statement
 * cache are read when scraped.
 */
export class GatewayMetrics {
  /** The gateway's own metrics. */
  private readonly own = new Registry();

  /** What `/metrics` answers: the gateway's metrics and the process's. */
  readonly registry: Registry;

  private readonly requests = new Counter({
    name: 'grantgate_graphql_requests_total',
    help: 'GraphQL requests by operation type (query, mutation, none: refused before one was found) and outcome',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.own],
  });

  private readonly durations = new Histogram({
    name: 'grantgate_graphql_request_duration_seconds',
    help: 'Time from a GraphQL request received to its response, by operation type',
    labelNames: ['operation'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.own],
  });

  private readonly denials = new Counter({
    name: 'grantgate_denials_total',
    help: 'Errors that refused a user something, by code and by the rule that refused it',
    labelNames: ['code', 'rule'] as const,
    registers: [this.own],
  });

  private readonly logins = new Counter({
    name: 'grantgate_logins_total',
    help: 'Login attempts by outcome: ok, refused (wrong credentials), throttled, bad_input, failed',
    labelNames: ['outcome'] as const,
    registers: [this.own],
  });

  private readonly resultBoundRefusals = new Counter({
    name: 'grantgate_result_bound_refusals_total',
    help: 'Documents refused before they ran for asking more than MAX_RESULT_OBJECTS',
    registers: [this.own],
  });

  constructor(sources: { orm: MikroORM; statements?: CompiledStatements }) {
    new Gauge({
      name: 'grantgate_db_pool_connections',
      help: "The database pool's connections by state: in_use, idle, and requests waiting for one",
      labelNames: ['state'] as const,
      registers: [this.own],
      async collect() {
        const { inUse, idle, waiting } = await poolState(sources.orm);
        this.set({ state: 'in_use' }, inUse);
        this.set({ state: 'idle' }, idle);
        this.set({ state: 'waiting' }, waiting);
      },
    });
    const statements = sources.statements;
    if (statements) {
      new Counter({
        name: 'grantgate_statement_cache_lookups_total',
        help: 'Compiled read statements looked up by document and identity: hit (kept) or miss (compiled)',
        labelNames: ['result'] as const,
        registers: [this.own],
        collect() {
          this.reset();
          this.inc({ result: 'hit' }, statements.hits);
          this.inc({ result: 'miss' }, statements.misses);
        },
      });
    }
    // A copy of both as they are now: every metric is registered by this point.
    this.registry = Registry.merge([processMetrics(), this.own]);
  }

  /** Counts a GraphQL request as it is answered: Apollo's (`plugin`) and queries past it (src/http/query-fast-path.ts). */
  countRequest(request: {
    started: number;
    operation: OperationDefinitionNode | undefined;
    errors: readonly GraphQLError[] | undefined;
    /** Whether the response carries a result (not an incremental delivery), for counting logins. */
    single: boolean;
  }): void {
    const { operation } = request;
    const type = operation?.operation ?? 'none';
    const found = request.errors ?? [];
    this.requests.inc({ operation: type, outcome: found.length ? 'error' : 'ok' });
    this.durations.observe({ operation: type }, (performance.now() - request.started) / 1000);
    for (const error of found) {
      const original = unwrapResolverError(error);
      if (isResultBoundRefusal(original)) this.resultBoundRefusals.inc();
      const denial = denialOf(original);
      if (denial) this.denials.inc(denial);
    }
    const login = operation?.selectionSet.selections.some(
      (selection) => selection.kind === 'Field' && selection.name.value === 'login',
    );
    if (login && request.single) this.logins.inc({ outcome: loginOutcome(found) });
  }

  plugin(): ApolloServerPlugin<RequestContext> {
    return {
      requestDidStart: async () => {
        const started = performance.now();
        return {
          willSendResponse: async ({ operation, errors, response }) =>
            this.countRequest({ started, operation, errors, single: response.body.kind === 'single' }),
        };
      },
    };
  }
}

/**
 * The process's own figures (memory, CPU, event loop, garbage collection), collected once per process
 * however many gateways it runs: each collection watches the event loop and the collector for good.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry) return processRegistry;
  processRegistry = new Registry();
  collectDefaultMetrics({ register: processRegistry, prefix: 'grantgate_' });
  // prom-client's gauges of active handles, requests and resources end in `_total`, which
  // Prometheus keeps for counters (`promtool check metrics` refuses them); the rest is kept.
  for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
    processRegistry.removeSingleMetric(`grantgate_nodejs_${name}`);
  }
  return processRegistry;
}

function loginOutcome(errors: readonly GraphQLError[]): string {
  const error = errors.find((candidate) => candidate.path?.length === 1) ?? errors[0];
  if (!error) return 'ok';
  if (error.extensions.retryAfterSeconds !== undefined) return 'throttled';
  if (error.extensions.code === 'UNAUTHENTICATED') return 'refused';
  if (error.extensions.code === 'BAD_USER_INPUT') return 'bad_input';
  return 'failed';
}

/**
 * METRICS_PORT's server: `/metrics` to whoever reaches METRICS_HOST (loopback unless told), for a
 * scraper on a private network that sends no token; nothing else is served there.
 */
export function metricsOnly(metrics: GatewayMetrics): RequestListener {
  return (req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"metrics unavailable"}'),
    );
  };
}

/**
 * `GET /metrics` in Prometheus' text format: outside production to anyone who reaches the port; in
 * production to the superuser's bearer token only (a scraper that cannot send one scrapes
 * METRICS_PORT instead, see `metricsOnly`).
 */
export function metricsRoutes(
  metrics: GatewayMetrics,
  options: { auth: AuthService; production: boolean },
): Router {
  const router = createRouter();
  router.get('/metrics', async (req, res, next) => {
    try {
      if (options.production) {
        const { user } = await options.auth.identify(req.headers.authorization);
        if (!user || !isSuperuser(user)) {
          res
            .status(user ? 403 : 401)
            .json({ error: 'the metrics are for the superuser (role sa) in production' });
          return;
        }
      }
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    } catch (error) {
      next(error);
    }
  });
  return router;
}
