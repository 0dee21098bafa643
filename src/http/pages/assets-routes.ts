import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router } from 'express';
import { pageSecurity } from './page-security.js';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const OWN_ASSETS = join(dirname(fileURLToPath(import.meta.url)), 'assets');

/**
 * The files the pages load, each from the gateway itself: GraphiQL's browser build and the React it
 * runs on, from node_modules (the exact versions package.json pins), and the pages' own script and
 * styles. A fixed list, so no request path can name another file.
 */
const ASSETS: Record<string, string> = {
  'graphiql.min.js': join(packageDir('graphiql'), 'graphiql.min.js'),
  'graphiql.min.css': join(packageDir('graphiql'), 'graphiql.min.css'),
  'react.production.min.js': join(packageDir('react'), 'umd', 'react.production.min.js'),
  'react-dom.production.min.js': join(packageDir('react-dom'), 'umd', 'react-dom.production.min.js'),
  'explorer.js': join(OWN_ASSETS, 'explorer.js'),
  'pages.css': join(OWN_ASSETS, 'pages.css'),
};

export function assetRoutes(): Router {
  const router = Router();
  router.get('/assets/:file', pageSecurity, (req, res, next) => {
    const name = String(req.params.file);
    if (!Object.hasOwn(ASSETS, name)) return next();
    res.sendFile(ASSETS[name]!, { maxAge: '1h' });
  });
  return router;
}
