import express, { type ErrorRequestHandler, type Response, Router } from 'express';
import { GraphQLError } from 'graphql';
import { type AuthUser } from '../../../auth-providers/auth-provider.js';
import { isSuperuser } from '../../../security/system/identity.js';
import { type AuthService, INVALID_CREDENTIALS } from '../../auth/auth-service.js';
import { clearConsoleSession, fromOwnPage, setConsoleSession } from './console-session.js';
import { consolePageStart, escapeHtml, pageSecurity } from './page-security.js';

/** The users the console shows, carried through the sign-in so that a bookmarked view opens after it. */
export interface ConsoleView {
  user: string;
  compare: string;
}

export const consoleView = (query: Record<string, unknown>): ConsoleView => ({
  user: typeof query.user === 'string' ? query.user.trim() : '',
  compare: typeof query.compare === 'string' ? query.compare.trim() : '',
});

/**
 * The console's sign-in in production: `POST /console/sign-in` with the superuser's credentials,
 * checked exactly like a GraphQL `login` (AuthService.verifyCredentials: the same length limits, the
 * same throttle per account and client address, the same messages), then a console session cookie;
 * `POST /console/sign-out` ends it. Both answer only forms from the console's own page.
 */
export function consoleSignInRoutes(auth: AuthService): Router {
  const router = Router();
  // A form of two fields: nothing larger or more nested is read.
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 10 });

  router.post('/console/sign-in', pageSecurity, form, async (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const view = consoleView(body);
    if (!fromOwnPage(req)) return refuseOtherPage(res);
    const { username, password } = body;
    if (typeof username !== 'string' || typeof password !== 'string' || username === '') {
      return signInPage(res, 400, view, 'Type the user name and password of the superuser (role sa).');
    }
    let user: AuthUser;
    try {
      user = await auth.verifyCredentials(username, password, req.ip ?? 'unknown');
    } catch (error) {
      if (!(error instanceof GraphQLError)) return next(error);
      const retryAfter = error.extensions.retryAfterSeconds as number | undefined;
      if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
      return signInPage(res, statusFor(error), view, error.message);
    }
    // Any other user is refused in the words of a wrong password: the page tells a guesser nothing
    // about the password of an account that is not the superuser's.
    if (!isSuperuser(user)) return signInPage(res, 401, view, INVALID_CREDENTIALS);
    const session = await auth.issueConsoleSession(user);
    setConsoleSession(req, res, session.token, session.expiresIn);
    // 303: the browser follows with a GET, and a reload does not post the password again.
    res.redirect(303, consoleUrl(view));
  });

  router.post('/console/sign-out', pageSecurity, (req, res) => {
    if (!fromOwnPage(req)) return refuseOtherPage(res);
    clearConsoleSession(req, res);
    res.redirect(303, '/console');
  });

  // A form the body parser refused (too large, too many fields): the sign-in again, with the reason,
  // rather than the gateway's catch-all (which knows JSON bodies only).
  const unreadableForm: ErrorRequestHandler = (
    error: { status?: number; expose?: boolean },
    _req,
    res,
    next,
  ) => {
    if (!error.expose || !error.status || error.status >= 500) return next(error);
    signInPage(res, error.status, { user: '', compare: '' }, 'The sign-in form could not be read.');
  };
  router.use('/console/sign-in', unreadableForm);
  return router;
}

/** `/console` with the view's users, always a path on the gateway itself (never a redirect elsewhere). */
function consoleUrl(view: ConsoleView): string {
  const query = new URLSearchParams(Object.entries(view).filter(([, value]) => value !== '')).toString();
  return query ? `/console?${query}` : '/console';
}

function refuseOtherPage(res: Response): void {
  res.status(403).type('text').send('Sign in and out of the security console from its own page.');
}

/** As `POST /api/auth/login` answers: 429 throttled, 503 provider unreachable, 400 bad input, else 401. */
function statusFor(error: GraphQLError): number {
  if (error.extensions.retryAfterSeconds) return 429;
  if (error.extensions.providerUnavailable) return 503;
  return error.extensions.code === 'BAD_USER_INPUT' ? 400 : 401;
}

/** The sign-in form, with what went wrong if anything did. Never cached: it may follow a console view. */
export function signInPage(res: Response, status: number, view: ConsoleView, problem?: string): void {
  const hidden = Object.entries(view)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('');
  res.status(status).setHeader('Cache-Control', 'no-store').type('html')
    .send(`${consolePageStart('grantgate — security console: sign in')}
<form class="bar" method="post" action="/console/sign-in">
  <strong>grantgate security console</strong>
  <label>User <input name="username" autocomplete="username" required></label>
  <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
  ${hidden}
  <button type="submit">Sign in</button>
</form>
<main>
${problem ? `<p class="error" role="alert">${escapeHtml(problem)}</p>` : ''}
<p>In production the security console is for the superuser (role <code>sa</code>): sign in once; the session lasts as long as an access token.</p>
</main>
</body>
</html>
`);
}
