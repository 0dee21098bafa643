import { type MiddlewareFn } from 'type-graphql';
import { statementDeadlines } from '../db/statement-deadline.js';
import { inSpan } from '../tracing.js';

/**
 * The database work of one request that may still be running. graphql-js 16 answers as soon as one
 * root field fails (its Promise.all rejects early) while sibling root fields may still be querying.
 * Root fields are where all of it starts — a read compiles everything below it into its own
 * statement, and relation fields only hand out what it read — so tracking them, not every field,
 * is enough for the response to wait until nothing of the request still runs.
 */
export class RequestWork {
  private readonly running = new Set<Promise<unknown>>();

  /** Runs `work` and keeps it among the request's running work until it settles. */
  track<T>(work: () => T | Promise<T>): Promise<T> {
    const running = (async () => work())();
    this.running.add(running);
    void running.then(
      () => this.running.delete(running),
      () => this.running.delete(running),
    );
    return running;
  }

  /** Resolves once all work tracked so far, and any it started meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

/**
 * Keeps a root field's work among the request's running work, in a span of its own, under the
 * request's deadline (a statement still running when it fires is cancelled): the first middleware
 * of every root field (src/api/entity-resolver.ts, src/auth/auth.resolver.ts).
 */
export const trackedWork: MiddlewareFn<{ work: RequestWork; deadline: AbortSignal }> = (
  { context, info },
  next,
) =>
  context.work.track(() =>
    inSpan(`graphql.field ${info.fieldName}`, { attributes: { 'graphql.field.name': info.fieldName } }, () =>
      statementDeadlines.run(context.deadline, next),
    ),
  );
