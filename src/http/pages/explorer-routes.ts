import { Router } from 'express';
import { type GraphQLSchema, introspectionFromSchema } from 'graphql';
import { pageSecurity } from './page-security.js';

/**
 * GraphiQL at /graphiql, served entirely by the gateway (SPEC §10): it works without internet,
 * unlike Apollo Sandbox at /graphql, which loads from Apollo's CDN. A login bar above it calls the
 * login mutation and sends the token as `Authorization: Bearer …` with every query.
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>grantgate — GraphiQL</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/graphiql.min.css">
<link rel="stylesheet" href="/assets/pages.css">
</head>
<body class="explorer">
<form id="login" class="bar">
  <strong>grantgate</strong>
  <label>User <input name="username" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  <button type="submit">Log in</button>
  <button type="button" id="logout" hidden>Log out</button>
  <span id="status" role="status">Not logged in: queries run anonymously.</span>
</form>
<div id="graphiql"></div>
<script src="/assets/react.production.min.js"></script>
<script src="/assets/react-dom.production.min.js"></script>
<script src="/assets/graphiql.min.js"></script>
<script src="/assets/explorer.js"></script>
</body>
</html>
`;

/**
 * `schema.json` is the schema's introspection, which GraphiQL asks for before anything else: its
 * own introspection query is deeper than the gateway's document limits allow a client (SPEC §8), so
 * the page reads the answer from here instead. It is served only when introspection is enabled.
 */
export function explorerRoutes(schema: GraphQLSchema): Router {
  const router = Router();
  const introspection = JSON.stringify({ data: introspectionFromSchema(schema) });
  router.get('/graphiql', pageSecurity, (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/graphiql/schema.json', pageSecurity, (_req, res) => {
    res.type('json').send(introspection);
  });
  return router;
}
