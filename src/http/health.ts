import { type MikroORM } from '@mikro-orm/postgresql';
import { type Router, Router as createRouter } from 'express';

/**
 * `/healthz`: the process answers. `/readyz`: it can also reach its database, and is not draining
 * (for load balancers: a replica told to stop is taken out of rotation before its listener closes).
 */
export function healthRoutes(orm: MikroORM, draining: () => boolean): Router {
  const router = createRouter();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (draining()) {
      res.status(503).json({ status: 'unavailable', reason: 'shutting down' });
      return;
    }
    const check = await orm.checkConnection();
    res
      .status(check.ok ? 200 : 503)
      .json(check.ok ? { status: 'ready' } : { status: 'unavailable', reason: 'database unreachable' });
  });
  return router;
}
