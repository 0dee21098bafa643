import { Router } from 'express';
import { type AuthUser } from '../../../auth-providers/auth-provider.js';
import { type AuthService } from '../../auth/auth-service.js';
import { describeUser, permissionsOf, rowsText } from '../../explain/explain-text.js';
import { type ExplainContext, type Explanation, explainUser } from '../../explain/explain-user.js';
import { clearConsoleSession, consoleSessionToken, consoleSessionUser } from './console-session.js';
import { consoleSignInRoutes, consoleView, signInPage } from './console-sign-in.js';
import { consolePageStart, escapeHtml, pageSecurity } from './page-security.js';

/**
 * The security console at /console (SPEC §10): pick a user, or two side by side, and see per entity
 * the verbs (aggregating among them), the rules that apply, the predicate and the rows visible —
 * `security:explain` as a web page, rendered on the server from the same module. Open in
 * development; in production only to the superuser, who signs in once (console-sign-in.ts) and is
 * then known by a signed session cookie (console-session.ts): a view costs no password check and no
 * login throttle budget (SPEC §8).
 */
export function consoleRoutes(options: {
  explain: ExplainContext;
  auth: AuthService;
  production: boolean;
}): Router {
  const router = Router();
  if (options.production) router.use(consoleSignInRoutes(options.auth));
  router.get('/console', pageSecurity, async (req, res, next) => {
    try {
      const view = consoleView(req.query);
      let signedIn: AuthUser | undefined;
      if (options.production) {
        const user = await consoleSessionUser(req, options.auth);
        if (!user) {
          // A cookie that no longer works (expired, tampered, not the superuser's) is dropped.
          if (consoleSessionToken(req) !== undefined) clearConsoleSession(req, res);
          return signInPage(res, 401, view);
        }
        signedIn = user;
        // What the superuser sees of everyone's rows stays out of caches.
        res.setHeader('Cache-Control', 'no-store');
      }
      const ids = [view.user, view.compare].filter(Boolean);
      const sections: string[] = [];
      for (const id of ids) {
        const user = await options.auth.findUser(id);
        sections.push(
          user
            ? userSection(user, await explainUser(options.explain, user))
            : `<section><h2>${escapeHtml(id)}</h2><p class="error">The auth provider does not know this user.</p></section>`,
        );
      }
      res.type('html').send(page(ids, sections, signedIn));
    } catch (error) {
      next(error);
    }
  });
  return router;
}

function page(ids: string[], sections: string[], signedIn: AuthUser | undefined): string {
  const [user = '', compare = ''] = ids;
  return `${consolePageStart('grantgate — security console')}
<form class="bar" method="get" action="/console">
  <strong>grantgate security console</strong>
  <label>User <input name="user" value="${escapeHtml(user)}" required></label>
  <label>Compare with <input name="compare" value="${escapeHtml(compare)}"></label>
  <button type="submit">Show</button>
  ${signedIn ? `<span class="session">Signed in as ${escapeHtml(signedIn.id)} <button type="submit" form="sign-out">Sign out</button></span>` : ''}
</form>
${signedIn ? '<form id="sign-out" method="post" action="/console/sign-out"></form>' : ''}
<main>
${sections.length ? `<div class="users">${sections.join('\n')}</div>` : '<p>Pick a user (an id the auth provider knows, e.g. <code>s1</code>) to see what it may do and see, entity by entity; add a second to compare.</p>'}
</main>
</body>
</html>
`;
}

function userSection(user: AuthUser, explanation: Explanation): string {
  const rows = Object.entries(explanation.entities).map(([entityName, entity]) => {
    const verbs = permissionsOf(entity)
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
