import { readFileSync } from 'node:fs';
import { type Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { setImmediate, setTimeout } from 'node:timers/promises';
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
 * 2. `closing`: the listener closes once no connection waits in its accept queue (a proxy's next
 *    connection is refused, which it may pass to another replica), and every response from now on
 *    closes its connection after it. Idle connections are left to the proxy to close for another
 *    grace, then closed; requests in flight finish, until their deadline.
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
    // Before responses close their connections: until then a proxy keeps its connections alive and
    // opens few new ones, so the accept queue is soon seen empty; after, it opens one per request.
    await this.acceptQueueEmptied();
    // net.Server's close, in the tick that found the accept queue empty: http.Server's would also
    // close every idle connection at once, under the feet of a proxy about to send its next request
    // on one. Resolves when the last connection ends.
    const closed = new Promise<void>((resolve) =>
      NetServer.prototype.close.call(this.server, () => resolve()),
    );
    this.state = 'closing';
    if (!(await settlesWithin(closed, graceMs))) this.server.closeIdleConnections();
    if (!(await settlesWithin(closed, requestTimeoutMs + 1000))) this.server.closeAllConnections();
    await closed;
  }

  /**
   * Waits, up to ACCEPT_QUEUE_WAIT_MS, until no connection waits in the listener's accept queue. The
   * kernel completes a proxy's connection before Node takes it, and the proxy sends its request at
   * once; closing the listener then resets that connection, and as the proxy cannot tell whether the
   * request was served, it answers a POST 502 (test/http/http-drain.test.ts). Each turn of the event
   * loop takes what waits. A connection that arrives between the last look and the close is still
   * reset: a window of microseconds, longer when the process is preempted then (a tcpdump of
   * test/fleet/rolling-restart under two CPU hogs once caught one that arrived 5 ms before the close).
   */
  private async acceptQueueEmptied(): Promise<void> {
    const address = this.server.address();
    if (address === null || typeof address === 'string') return;
    const waitUntil = Date.now() + ACCEPT_QUEUE_WAIT_MS;
    const table = address.family === 'IPv6' ? '/proc/net/tcp6' : '/proc/net/tcp';
    while (connectionsWaiting(table, address.port) > 0 && Date.now() < waitUntil) await setImmediate();
  }
}

/** A flood of new connections does not keep the listener open longer than this. */
const ACCEPT_QUEUE_WAIT_MS = 1000;

/**
 * How many connections wait to be accepted on the TCP listeners of `port` in `table` (/proc/net/tcp
 * for IPv4, tcp6 for IPv6: one file, as a connection that arrives after the look is reset), as Linux
 * reports them: a listening socket's receive queue there is its accept queue. Where it cannot be read,
 * none: the listener closes at once.
 */
function connectionsWaiting(table: string, port: number): number {
  let text: string;
  try {
    text = readFileSync(table, 'latin1');
  } catch {
    return 0;
  }
  const portSuffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let waiting = 0;
  for (const line of text.split('\n')) {
    // sl, local_address, rem_address, st (0A: LISTEN), tx_queue:rx_queue, …
    const [, local, , state, queues] = line.trim().split(/\s+/);
    if (state === '0A' && local?.endsWith(portSuffix) && queues)
      waiting += parseInt(queues.split(':')[1] ?? '0', 16);
  }
  return waiting;
}

const settlesWithin = (promise: Promise<void>, ms: number) =>
  Promise.race([promise.then(() => true), setTimeout(ms, false)]);
