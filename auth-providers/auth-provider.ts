import { type AuthUser } from '../security/system/identity.js';

/** The user a provider returns is the security model's (security/system/identity.ts). */
export type { AuthUser };

/**
 * The contract between the gateway and wherever users live. The gateway never learns how a provider
 * stores or checks users: it asks for a user by name and password, and (optionally) to re-read one
 * by id when a refresh token is used, so that changed roles and disabled users take effect.
 */
export interface AuthProvider {
  /** The user whose credentials these are, or null: unknown user and wrong password look the same. */
  authenticate(username: string, password: string): Promise<AuthUser | null>;
  /** The user as the provider knows them now, or null when gone or disabled (used on refresh). */
  findUser?(id: string): Promise<AuthUser | null>;
  /** Accepts a token this provider itself issued (e.g. Keycloak's), returning its user, or null. */
  verifyToken?(token: string): Promise<AuthUser | null>;
  /**
   * The account a user name means to this provider, as a string: names it treats as the same user
   * must give the same string (an LDAP directory ignores case and insignificant spaces, so `ALICE` and
   * `alice  ` are `alice`). The login throttle counts attempts under it, so spelling a name differently
   * buys no fresh guesses. It never decides who logs in. Without it, case is ignored
   * (defaultNormalizeUsername): safe for throttling, since merging names only shares their budget.
   */
  normalizeUsername?(username: string): string;
  /** Releases connections and timers on shutdown. */
  close?(): Promise<void>;
}

/** The throttle's account for providers that do not say: case ignored, as most directories do. */
export const defaultNormalizeUsername = (username: string): string => username.toLowerCase();

/**
 * The password of every demo user a domain brings (the demo's `admin`, `s1`, …). It is printed in the
 * README and on start-up, so a production start refuses an auth store in which a user still has it.
 */
export const DEMO_PASSWORD = 'p';

/**
 * Thrown by a provider's init() that will not start for a reason its message says in one line (a user
 * with the demo password in production): the gateway stops with that line, without a stack trace.
 */
export class AuthProviderRefusal extends Error {}

/**
 * Thrown by a provider whose identity system cannot be reached or answers with an error: the login
 * fails with a clear "try again later", never as a wrong password, and already-issued tokens keep working.
 */
export class AuthProviderUnavailableError extends Error {}

/** What a provider gets when the gateway creates it; a custom provider's constructor receives it. */
export interface AuthProviderOptions {
  /** The application database; a provider may keep its own data in a schema of it. */
  databaseUrl: string;
  /** AUTH_DATABASE_URL when set: where a provider's own data lives instead. */
  authDatabaseUrl?: string;
  /**
   * The served domain's demo users, for a provider that keeps users to create (password DEMO_PASSWORD)
   * when missing. Empty in production, with SEED=none, and for a domain that brings none (an imported
   * one: the team's database gets no demo users).
   */
  demoUsers: readonly AuthUser[];
  /**
   * NODE_ENV=production: a provider that keeps passwords refuses to start while a user's is
   * DEMO_PASSWORD, unless the user is one of `demoAccounts`.
   */
  production: boolean;
  /**
   * The served domain's demo accounts (the demo's `admin`, `u1`, …; none for an imported domain): in
   * production they are the demo's own, which the gateway warns of; any other user with the demo
   * password is a leftover in a team's database (a demo once served on it).
   */
  demoAccounts: readonly string[];
  env: NodeJS.ProcessEnv;
}

export type AuthProviderClass = new (
  options: AuthProviderOptions,
) => AuthProvider & { init?(): Promise<void> };
