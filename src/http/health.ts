import { type MikroORM } from '@mikro-orm/postgresql';
import { type Router, Router as createRouter } from 'express';

/** `/healthz`: the process answers. `/readyz`: it can also reach its database (for load balancers). */
export function healthRoutes(orm: MikroORM): Router {
  const router = createRouter();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const check = await orm.checkConnection();
    res
      .status(check.ok ? 200 : 503)
      .json(check.ok ? { status: 'ready' } : { status: 'unavailable', reason: 'database unreachable' });
  });
  return router;
}
