/**
 * The reason a request's signal fires at REQUEST_TIMEOUT. MikroORM rethrows it wrapped in a
 * DriverException that copies the reason's own properties, so `requestDeadline` survives the wrapping
 * and lets the error formatter tell a deadline from any other failure.
 */
export class RequestDeadlineExceeded extends Error {
  readonly requestDeadline = true;
  constructor() {
    super('The request took too long and was stopped.');
  }
}

export function isRequestDeadline(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ((current as Partial<RequestDeadlineExceeded>).requestDeadline === true) return true;
  }
  return false;
}

/** When each request's deadline falls (performance.now() time) and its timer, beside its signal. */
const deadlines = new WeakMap<AbortSignal, { at: number; timer: NodeJS.Timeout }>();

/**
 * A signal that aborts after `ms`, unless `endDeadline` ends it first; the timer never keeps the
 * process alive.
 */
export function requestDeadline(ms: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RequestDeadlineExceeded()), ms).unref();
  deadlines.set(controller.signal, { at: performance.now() + ms, timer });
  return controller.signal;
}

/**
 * Ends the deadline of a request that has been answered. Left to run, its timer would wait out
 * REQUEST_TIMEOUT and then abort a request long finished, building an error nobody reads (7.5 µs of
 * each S1 request in a profile of the gateway on a loaded machine), and keep the signal, its
 * controller and what listens to it alive until then: at 2 500 requests a second and the default
 * 30 s, 75 000 timers, which outlive the young generation and leave the old one to collect.
 */
export function endDeadline(deadline: AbortSignal): void {
  const ending = deadlines.get(deadline);
  if (ending) clearTimeout(ending.timer);
}

/**
 * Throws once the deadline has passed. The clock is read as well as the signal: a busy event loop
 * (a large response being completed) runs the abort timer late, and work must not start meanwhile.
 */
export function throwIfPastDeadline(deadline: AbortSignal): void {
  if (deadline.aborted) throw deadline.reason;
  if (performance.now() >= (deadlines.get(deadline)?.at ?? Infinity)) throw new RequestDeadlineExceeded();
}

/**
 * The request's EntityManager, handed out only before its deadline. Every statement of a request
 * starts by asking for it: the root operations (through the context's `em`; a compiled read asks
 * again when its statement comes back) and the transaction's `begin`. So a root field that starts
 * after REQUEST_TIMEOUT throws RequestDeadlineExceeded instead of issuing SQL, and a read that comes
 * back late is not answered, while the signal itself cancels the statement in flight. A clock read
 * per call, nothing per field.
 */
export function untilDeadline<T>(deadline: AbortSignal, em: T): () => T {
  return () => {
    throwIfPastDeadline(deadline);
    return em;
  };
}
