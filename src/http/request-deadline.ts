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

/** A signal that aborts after `ms`; the timer never keeps the process alive. */
export function requestDeadline(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(new RequestDeadlineExceeded()), ms).unref();
  return controller.signal;
}
