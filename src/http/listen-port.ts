import { createServer } from 'node:net';

/**
 * Fails, as listening would, when HOST:PORT cannot be listened on (something already listens there):
 * checked before any database work, so a second `npm start` does not first create, migrate and seed a
 * database. Nothing keeps the port: the gateway listens once it is ready, and should another server
 * take the port meanwhile, that failure reads the same (listenFailure).
 */
export function checkPortFree(port: number, host: string): Promise<void> {
  // PORT=0 asks for any free port: there is nothing to check.
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

/** The one line that says why HOST:PORT cannot be listened on, or undefined for any other error. */
export function listenFailure(error: unknown, port: number, host: string): string | undefined {
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  if (syscall !== 'listen') return undefined;
  switch (code) {
    case 'EADDRINUSE':
      return `Invalid configuration: PORT ${port} is in use on ${host}: stop what listens there, or choose another PORT (0: any free port)`;
    case 'EADDRNOTAVAIL':
      return `Invalid configuration: HOST ${host} is not an address of this machine`;
    default:
      return undefined;
  }
}
