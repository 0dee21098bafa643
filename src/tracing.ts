import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  type Span,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { LRUCache } from 'lru-cache';
import { type Logger } from './logger.js';

/**
 * OpenTelemetry traces (SPEC §12): on when OTEL_EXPORTER_OTLP_ENDPOINT (or its traces-only variant)
 * is set, exported by OTLP as the standard OTEL_* variables say (protocol, headers, batching,
 * sampling); off otherwise, when the helpers below only run their work. One trace per GraphQL
 * request (continuing a W3C `traceparent` it carries), with spans for parsing, validation, each root
 * field and each SQL statement.
 */
export async function startTracing(log: Logger): Promise<(() => Promise<void>) | undefined> {
  const endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return undefined;
  // Traces only: the metrics are Prometheus' (/metrics), the logs pino's.
  const sdk = new NodeSDK({
    serviceName: 'grantgate',
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  tracing = true;
  log.info({ endpoint }, 'tracing: spans exported by OTLP');
  return async () => {
    tracing = false;
    await sdk.shutdown();
  };
}

const tracer = trace.getTracer('grantgate');
/**
 * Whether tracing is on (startTracing): while off, the helpers below run their work as it is,
 * without the API's no-op spans and context switches, so that tracing off costs nothing.
 */
let tracing = false;
const NOT_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Runs `work` in a span named `name`, the current one's child (a root span continuing `carrier`'s
 * `traceparent` when given), ending it when `work` settles; an error marks it failed. `work` starts
 * at once (what it queues is queued before this returns). With tracing off, or under a parent the
 * sampler left out, there is no span (`span.isRecording()` is false), so attributes that cost work to
 * compute are set only when it records.
 */
export function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes; carrier?: Record<string, unknown> },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  if (!tracing) return work(NOT_RECORDING);
  const parent = options.carrier ? propagation.extract(ROOT_CONTEXT, options.carrier) : context.active();
  if (leftOut(parent)) return work(NOT_RECORDING);
  return tracer.startActiveSpan(
    name,
    { kind: options.kind, attributes: options.attributes },
    parent,
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        failed(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * Whether `parent` is a span of this process the sampler left out: its children would record
 * nothing either (the default sampler follows the parent), so they are not made at all — what
 * makes a request the sampler leaves out cost little more than its root span.
 */
function leftOut(parent: Context): boolean {
  const span = trace.getSpan(parent);
  return span !== undefined && !span.isRecording() && !span.spanContext().isRemote;
}

const STATEMENT_ATTRIBUTES = createContextKey('grantgate statement attributes');

/**
 * Runs `work` with attributes for the spans of the statements it sends (the rules a compiled read
 * applies), computed only when the current span records.
 */
export function withStatementAttributes<T>(attributes: () => Attributes, work: () => Promise<T>): Promise<T> {
  if (!tracing || !trace.getActiveSpan()?.isRecording()) return work();
  return context.with(context.active().setValue(STATEMENT_ATTRIBUTES, attributes()), work);
}

/**
 * Runs `send`, one SQL statement, in a client span of its own: its text without values, the
 * attributes `withStatementAttributes` gave it, and the rows it affected or returned. The span is
 * not made current, since nothing runs under it: one context switch less per statement.
 */
export function inStatementSpan<T extends { rowCount?: number | null } | undefined>(
  text: string,
  send: () => Promise<T>,
): Promise<T> {
  if (!tracing || leftOut(context.active())) return send();
  const span = tracer.startSpan('sql', { kind: SpanKind.CLIENT });
  // A span the sampler left out records nothing and needs no end; its attributes are not worked out.
  if (!span.isRecording()) return send();
  span.setAttributes(statementSpanAttributes(text));
  return send().then(
    (result) => {
      if (typeof result?.rowCount === 'number') span.setAttribute('db.rows', result.rowCount);
      span.end();
      return result;
    },
    (error: unknown) => {
      failed(span, error);
      span.end();
      throw error;
    },
  );
}

const statementSpanAttributes = (text: string): Attributes => ({
  'db.system': 'postgresql',
  'db.statement': withoutValues(text),
  ...(context.active().getValue(STATEMENT_ATTRIBUTES) as Attributes | undefined),
});

const failed = (span: Span, error: unknown) =>
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });

/** A span for a step whose end is reported by a callback (Apollo's `parsingDidStart` and the like). */
export function startSpan(name: string): (error?: unknown) => void {
  if (!tracing || leftOut(context.active())) return () => {};
  const span = tracer.startSpan(name);
  return (error) => {
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
    span.end();
  };
}

/**
 * A statement's text as a span may carry it: MikroORM writes values into its statements, and a
 * trace must not carry them (SPEC §12). String and number literals become `?`; bind parameters
 * (`$1`) and identifiers stay.
 */
export function withoutValues(sql: string): string {
  let text = sanitised.get(sql);
  if (text === undefined) {
    text = valuesReplaced(sql);
    sanitised.set(sql, text);
  }
  return text;
}

/** The texts sanitised lately (at most ~4 MB of them): a compiled read's text repeats from request to request. */
const sanitised = new LRUCache<string, string>({
  maxSize: 2_000_000,
  sizeCalculation: (text, sql) => text.length + sql.length,
});

function valuesReplaced(sql: string): string {
  return sql
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/(?<![$\w."])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?(?![\w"])/gi, '?');
}
