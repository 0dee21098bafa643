import { type Request, type Response } from 'express';
import { type AuthUser } from '../../../auth-providers/auth-provider.js';
import { isSuperuser } from '../../../security/system/identity.js';
import { type AuthService } from '../../auth/auth-service.js';

/**
 * The security console's session in production (SPEC §8): the superuser signs in once and the
 * browser then carries a signed, short-lived console session token (TokenService) in this cookie.
 * Checking it is a signature check — no password hash, no login throttle — so an admin viewing the
 * console all day spends no one's login budget, not even their own.
 */
export const CONSOLE_COOKIE = 'grantgate_console';

/** The cookie's attributes: sent only to the console, only from its own site, never to scripts. */
const cookieOptions = (req: Request) => ({
  httpOnly: true,
  // Strict: a link or form on another site reaches the console without it (no CSRF on the views).
  sameSite: 'strict' as const,
  // Secure whenever the request came over HTTPS (directly, or through a proxy TRUST_PROXY trusts);
  // a plain-HTTP gateway (development, a private network) would otherwise never get it back.
  secure: req.secure,
  path: '/console',
});

export function setConsoleSession(req: Request, res: Response, token: string, expiresIn: number): void {
  res.cookie(CONSOLE_COOKIE, token, { ...cookieOptions(req), maxAge: expiresIn * 1000 });
}

export function clearConsoleSession(req: Request, res: Response): void {
  res.clearCookie(CONSOLE_COOKIE, cookieOptions(req));
}

/** The cookie's value as sent, if any (the gateway has no cookie parser: this is its one cookie). */
export function consoleSessionToken(req: Request): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === CONSOLE_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The superuser whose valid session the request carries, or null: no cookie, a tampered or expired
 * one, one that is not a console session (an access token), or one of a user without the role `sa`.
 */
export async function consoleSessionUser(req: Request, auth: AuthService): Promise<AuthUser | null> {
  const token = consoleSessionToken(req);
  if (!token) return null;
  const user = await auth.consoleSessionUser(token);
  return user && isSuperuser(user) ? user : null;
}

/**
 * Whether a POST (sign-in, sign-out) comes from the console's own page, so that no other site can
 * make a visitor's browser sign in, or spend the superuser's login budget with wrong passwords.
 * Browsers say where a request comes from and no page can change it: `Sec-Fetch-Site` when sent
 * (current browsers, over HTTPS and to localhost), else `Origin` compared with the gateway's own.
 * A request with neither is refused: browsers that send neither are not in use, and a script signs
 * in by sending `Origin` itself.
 */
export function fromOwnPage(req: Request): boolean {
  const site = req.get('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin';
  const origin = req.get('origin');
  return origin !== undefined && origin === `${req.protocol}://${req.host}`;
}
