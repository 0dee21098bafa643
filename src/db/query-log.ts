import { type LogContext, type Logger as OrmLogger, type LoggerNamespace } from '@mikro-orm/core';
import { type Logger } from '../logger.js';

export type QueryListener = (sql: string, context: LogContext) => void;

/**
 * MikroORM's logger, routed to pino. Every statement is logged at debug level together with the
 * request id the request's EntityManager fork carries, and handed to listeners: that is how tests
 * count the statements of an operation.
 */
export class QueryLog implements OrmLogger {
  private readonly listeners = new Set<QueryListener>();

  constructor(private readonly output: Logger) {}

  /** Calls `listener` for every statement until the returned function is called. */
  listen(listener: QueryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  logQuery(context: LogContext): void {
    const sql = context.query ?? '';
    for (const listener of this.listeners) listener(sql, context);
    if (this.output.isLevelEnabled('debug')) {
      this.output.debug({ requestId: context.requestId, sql, tookMs: context.took }, 'sql');
    }
  }

  log(namespace: LoggerNamespace | string, message: string, context?: LogContext): void {
    if (this.output.isLevelEnabled('debug')) {
      this.output.debug({ orm: namespace, requestId: context?.requestId, ...context?.details }, message);
    }
  }

  warn(namespace: LoggerNamespace | string, message: string): void {
    this.output.warn({ orm: namespace }, message);
  }

  error(namespace: LoggerNamespace | string, message: string): void {
    this.output.error({ orm: namespace }, message);
  }

  setDebugMode(): void {}

  /** MikroORM asks before building debug messages; statements reach logQuery (and the listeners) regardless. */
  isEnabled(): boolean {
    return this.output.isLevelEnabled('debug');
  }
}
