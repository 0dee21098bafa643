import { type Request, type Response, Router } from 'express';
import { GraphQLError } from 'graphql';
import { type AuthUser } from '../../../auth-providers/auth-provider.js';
import { isSuperuser } from '../../../security/system/identity.js';
import { type AuthService } from '../../auth/auth-service.js';
import { describeUser, rowsText } from '../../explain/explain-text.js';
import { type ExplainContext, type Explanation, explainUser } from '../../explain/explain-user.js';
import { escapeHtml, pageSecurity } from './page-security.js';

/**
 * The security console at /console (SPEC §10): pick a user, or two side by side, and see per entity
 * the verbs, the rules that apply, the predicate and the rows visible — `security:explain` as a web
 * page, rendered on the server from the same module. Open in development; in production only to the
 * superuser, by HTTP Basic with their credentials (checked through the login throttle).
 */
export function consoleRoutes(options: {
  explain: ExplainContext;
  auth: AuthService;
  production: boolean;
}): Router {
  const router = Router();
  router.get('/console', pageSecurity, async (req, res, next) => {
    try {
      if (options.production && !(await superuserByBasicAuth(req, res, options.auth))) return;
      const ids = [req.query.user, req.query.compare]
        .map((value) => (typeof value === 'string' ? value.trim() : ''))
        .filter(Boolean);
      const sections: string[] = [];
      for (const id of ids) {
        const user = await options.auth.findUser(id);
        sections.push(
          user
            ? userSection(user, await explainUser(options.explain, user))
            : `<section><h2>${escapeHtml(id)}</h2><p class="error">The auth provider does not know this user.</p></section>`,
        );
      }
      res.type('html').send(page(ids, sections));
    } catch (error) {
      next(error);
    }
  });
  return router;
}

/**
 * True when the request carries the credentials of a superuser; otherwise it has answered 401 (ask
 * for credentials) or 403 (a user, but not the superuser).
 */
async function superuserByBasicAuth(req: Request, res: Response, auth: AuthService): Promise<boolean> {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  let user: AuthUser | undefined;
  if (colon > 0) {
    try {
      user = await auth.verifyCredentials(
        decoded.slice(0, colon),
        decoded.slice(colon + 1),
        req.ip ?? 'unknown',
      );
    } catch (error) {
      if (!(error instanceof GraphQLError)) throw error;
    }
  }
  if (!user) {
    res.setHeader('WWW-Authenticate', 'Basic realm="grantgate security console", charset="UTF-8"');
    res.status(401).type('text').send('The security console needs the credentials of a superuser (role sa).');
    return false;
  }
  if (!isSuperuser(user)) {
    res.status(403).type('text').send('The security console is for the superuser (role sa) only.');
    return false;
  }
  return true;
}

function page(ids: string[], sections: string[]): string {
  const [user = '', compare = ''] = ids;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>grantgate — security console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/pages.css">
</head>
<body class="console">
<form class="bar" method="get" action="/console">
  <strong>grantgate security console</strong>
  <label>User <input name="user" value="${escapeHtml(user)}" required></label>
  <label>Compare with <input name="compare" value="${escapeHtml(compare)}"></label>
  <button type="submit">Show</button>
</form>
<main>
${sections.length ? `<div class="users">${sections.join('\n')}</div>` : '<p>Pick a user (an id the auth provider knows, e.g. <code>s1</code>) to see what it may do and see, entity by entity; add a second to compare.</p>'}
</main>
</body>
</html>
`;
}

function userSection(user: AuthUser, explanation: Explanation): string {
  const rows = Object.entries(explanation.entities).map(([entityName, entity]) => {
    const verbs = Object.entries(entity.verbs)
      .map(
        ([verb, allowed]) => `<span class="${allowed ? 'yes' : 'no'}">${verb} ${allowed ? '✓' : '✗'}</span>`,
      )
      .join(' ');
    const rules = entity.rules
      .map((rule) => `<li><em>${escapeHtml(rule.kind)}</em>: ${escapeHtml(rule.label)}</li>`)
      .join('');
    return `<tr data-entity="${escapeHtml(entityName)}">
  <th>${escapeHtml(entityName)}</th>
  <td>${verbs}</td>
  <td class="rows">${escapeHtml(rowsText(entity))}</td>
  <td><ul>${rules}</ul><code>${escapeHtml(entity.predicate)}</code></td>
</tr>`;
  });
  return `<section data-user="${escapeHtml(user.id)}">
<h2>${escapeHtml(describeUser(user))}</h2>
<table>
<thead><tr><th>Entity</th><th>Verbs</th><th>Visible</th><th>Rules and predicate</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}
