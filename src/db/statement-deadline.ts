import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The deadline of the request whose work runs in this asynchronous context: each root field runs
 * under its request's (src/http/request-work.ts `trackedWork`), and the pool's client cancels a
 * statement still running when it fires (src/db/preparing-client.ts).
 */
export const statementDeadlines = new AsyncLocalStorage<AbortSignal>();
