import { type Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { setTimeout } from 'node:timers/promises';
import { type RequestHandler } from 'express';

/**
 * Taking a replica out of a fleet without losing a request (SPEC §12). A request is lost when the
 * gateway closes a connection that carries one it has not read: an idle kept-alive connection on
 * which the proxy is just sending its next request, or one the kernel accepted but Node had not yet.
 * So the gateway closes no connection that a proxy might be using while the proxy still sends:
 *
 * 1. `draining` (SHUTDOWN_GRACE): `/readyz` answers 503 and everything else is served as before, so a
 *    proxy that checks readiness stops sending here, and one that does not (nginx) keeps its
 *    connections alive and opens no new ones.
 * 2. `closing`: the listener closes (a proxy's next connection is refused, which it may pass to
 *    another replica), and every response from now on closes its connection after it. Idle
 *    connections are left to the proxy to close for another grace, then closed; requests in flight
 *    finish, until their deadline.
 */
export class HttpDrain {
  private state: 'serving' | 'draining' | 'closing' = 'serving';

  constructor(private readonly server: Server) {}

  /** Whether the replica was told to stop (`/readyz` answers 503). */
  get draining(): boolean {
    return this.state !== 'serving';
  }

  /**
   * Marks responses written while closing `Connection: close`. At the response's head, not at the
   * request's start: a request that began before the listener closed answers after it.
   */
  readonly closeConnectionsWhenClosing: RequestHandler = (_req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = ((...args: Parameters<typeof writeHead>) => {
      if (this.state === 'closing' && !res.headersSent) res.setHeader('Connection', 'close');
      return writeHead.apply(res, args);
    }) as typeof writeHead;
    next();
  };

  /** Drains as above; resolves once every connection has ended. */
  async drain(graceMs: number, requestTimeoutMs: number): Promise<void> {
    this.state = 'draining';
    if (graceMs > 0) await setTimeout(graceMs);
    this.state = 'closing';
    // net.Server's close: http.Server's would also close every idle connection at once, under the
    // feet of a proxy about to send its next request on one. Resolves when the last connection ends.
    const closed = new Promise<void>((resolve) =>
      NetServer.prototype.close.call(this.server, () => resolve()),
    );
    if (!(await settlesWithin(closed, graceMs))) this.server.closeIdleConnections();
    if (!(await settlesWithin(closed, requestTimeoutMs + 1000))) this.server.closeAllConnections();
    await closed;
  }
}

const settlesWithin = (promise: Promise<void>, ms: number) =>
  Promise.race([promise.then(() => true), setTimeout(ms, false)]);
