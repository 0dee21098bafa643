/**
 * The socket errors that mean the database server could not be reached at all: nothing listens
 * there, the name does not resolve, or the network does not get through. Each needs a fix in
 * DATABASE_URL or in the network, never a look at grantgate's code, so they are one line.
 */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

interface SocketError {
  code?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/**
 * The socket error inside `error`: the driver and pool pass Node's error on as is, as the cause of
 * their own, or (a name with IPv4 and IPv6 addresses) as one of an AggregateError's.
 */
function socketErrorIn(error: unknown): SocketError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code } = error as SocketError;
  if (typeof code === 'string' && UNREACHABLE.has(code)) {
    const first = error instanceof AggregateError ? socketErrorIn(error.errors[0]) : undefined;
    return { ...first, ...(error as SocketError) };
  }
  return socketErrorIn(error.cause);
}

/** `host:port` as the error names it (`[::1]:5432` for IPv6), the host name that did not resolve, or the URL's. */
function placeOf(socket: SocketError, url: string | undefined): string {
  if (typeof socket.address === 'string') {
    const host = socket.address.includes(':') ? `[${socket.address}]` : socket.address;
    return typeof socket.port === 'number' ? `${host}:${socket.port}` : host;
  }
  return typeof socket.hostname === 'string' ? socket.hostname : placeIn(url);
}

/**
 * pg-pool's words for a server that accepted the connection but never answered in time (a
 * firewall that drops packets, a stuck proxy): no socket error code, only the message.
 */
const CONNECT_TIMEOUTS = [
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
];

/** `host:port` of a connection URL, without its credentials. */
function placeIn(url: string | undefined): string {
  if (!url) return 'its address';
  const { hostname, port } = new URL(url);
  return `${hostname}:${port || 5432}`;
}

/**
 * "cannot reach the database at 127.0.0.1:5432: ECONNREFUSED" when `error` means the server could
 * not be reached; undefined for every other error, which keeps its stack for diagnosis. `url` is
 * the database being connected to, which names the place when the error does not.
 */
export function unreachableDatabase(error: unknown, url?: string): string | undefined {
  const socket = socketErrorIn(error);
  if (socket) return `cannot reach the database at ${placeOf(socket, url)}: ${String(socket.code)}`;
  if (error instanceof Error && CONNECT_TIMEOUTS.includes(error.message)) {
    return `cannot reach the database at ${placeIn(url)}: no answer within the connection timeout`;
  }
  return undefined;
}
