import { GraphQLError } from 'graphql';
import {
  type AuthProvider,
  AuthProviderUnavailableError,
  type AuthUser,
  defaultNormalizeUsername,
} from '../../auth-providers/auth-provider.js';
import { type Logger } from '../logger.js';
import { MAX_PASSWORD_LENGTH } from '../../auth-providers/sql/password-hashing.js';
import { badUserInput } from '../errors.js';
import { LoginThrottledError, type LoginThrottle } from './login-throttle.js';
import { type RefreshTokenStore } from './refresh-token-store.js';
import { InvalidTokenError, type TokenService } from './token-service.js';

export interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  user: AuthUser;
}

/** Who a request is from: a user, nobody, or someone whose token was refused. */
export interface RequestIdentity {
  user?: AuthUser;
  /** A token was sent but refused: the request is not treated as anonymous. */
  invalidToken?: boolean;
}

export const unauthenticated = (message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', ...extensions } });

/**
 * Longer user names are refused before anything else: no identity system has such names, and the
 * throttle's keys, the provider's requests and the logs must not grow with what a stranger sends.
 */
export const MAX_USERNAME_LENGTH = 256;

/** The same answer for an unknown user and a wrong password: nothing tells them apart. */
export const INVALID_CREDENTIALS = 'Invalid username or password';
const PROVIDER_UNAVAILABLE =
  'Login is unavailable: the identity provider cannot be reached. Try again later.';

/** Login, refresh, logout and bearer-token checks, independent of where users are stored. */
export class AuthService {
  constructor(
    private readonly provider: AuthProvider,
    private readonly tokens: TokenService,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly throttle: LoginThrottle,
    private readonly log: Logger,
  ) {}

  get jwks() {
    return this.tokens.jwks;
  }

  /** The key that signs the cursors of connections (src/api/cursors.ts), kept as long as the token key. */
  get cursorKey(): Buffer {
    return (this.cursorKeyOnce ??= this.tokens.keyFor('grantgate connection cursor v1'));
  }

  private cursorKeyOnce?: Buffer;

  async login(username: string, password: string, clientAddress: string): Promise<AuthPayload> {
    const user = await this.verifyCredentials(username, password, clientAddress);
    return this.payload(user, await this.refreshTokens.issue(user));
  }

  /**
   * The user whose credentials these are, through the same length limits and throttle as a login, but
   * without issuing tokens: for the security console's sign-in.
   */
  async verifyCredentials(username: string, password: string, clientAddress: string): Promise<AuthUser> {
    if (username.length > MAX_USERNAME_LENGTH) {
      throw badUserInput(`username must be at most ${MAX_USERNAME_LENGTH} characters long`);
    }
    if (password.length > MAX_PASSWORD_LENGTH) {
      throw badUserInput(`password must be at most ${MAX_PASSWORD_LENGTH} characters long`);
    }
    const account = this.provider.normalizeUsername?.(username) ?? defaultNormalizeUsername(username);
    try {
      await this.throttle.attempt(account, clientAddress);
    } catch (error) {
      if (error instanceof LoginThrottledError) {
        throw unauthenticated(error.message, { retryAfterSeconds: error.retryAfterSeconds });
      }
      throw error;
    }
    const user = await this.authenticateWithProvider(username, password);
    if (!user) throw unauthenticated(INVALID_CREDENTIALS);
    await this.throttle.succeeded(account, clientAddress);
    return user;
  }

  /** A signed console session for `user` (its cookie): see TokenService.issueConsoleSession. */
  issueConsoleSession(user: AuthUser): Promise<{ token: string; expiresIn: number }> {
    return this.tokens.issueConsoleSession(user);
  }

  /** The user (id and roles) a console session speaks for, or null for any token that is not a valid one. */
  async consoleSessionUser(token: string): Promise<AuthUser | null> {
    try {
      return await this.tokens.verifyConsoleSession(token);
    } catch (error) {
      if (error instanceof InvalidTokenError) return null;
      throw error;
    }
  }

  /**
   * The user as the provider knows them now, for `security:explain` and the console; null when the
   * provider does not know them or cannot look users up by id.
   */
  findUser(id: string): Promise<AuthUser | null> {
    return this.provider.findUser ? this.provider.findUser(id) : Promise.resolve(null);
  }

  /** Rotates a refresh token and re-reads the user from the provider, so role changes take effect. */
  async refresh(refreshToken: string): Promise<AuthPayload> {
    const result = await this.refreshTokens.rotate(refreshToken, (snapshot) =>
      this.provider.findUser ? this.provider.findUser(snapshot.id) : Promise.resolve(snapshot),
    );
    if (result.outcome !== 'rotated') throw unauthenticated('Invalid or expired refresh token');
    return this.payload(result.user, result.refreshToken);
  }

  /** Revokes the whole family of one of the user's refresh tokens; false for anyone else's or an unknown one. */
  logout(refreshToken: string, userId: string): Promise<boolean> {
    return this.refreshTokens.revokeFamily(refreshToken, userId);
  }

  /** Reads `Authorization: Bearer <token>`; our own tokens first, then the provider's (e.g. Keycloak's). */
  async identify(authorization: string | undefined): Promise<RequestIdentity> {
    if (authorization === undefined || authorization === '') return {};
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(authorization.trim());
    if (!match) return { invalidToken: true };
    try {
      return { user: await this.tokens.verifyAccessToken(match[1]!) };
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
    }
    const user = await this.provider.verifyToken?.(match[1]!).catch(() => null);
    return user ? { user } : { invalidToken: true };
  }

  private async authenticateWithProvider(username: string, password: string): Promise<AuthUser | null> {
    try {
      return await this.provider.authenticate(username, password);
    } catch (error) {
      if (!(error instanceof AuthProviderUnavailableError)) throw error;
      this.log.error({ err: error }, 'the auth provider is unavailable');
      throw new GraphQLError(PROVIDER_UNAVAILABLE, {
        extensions: { code: 'INTERNAL_SERVER_ERROR', providerUnavailable: true },
      });
    }
  }

  private async payload(user: AuthUser, refreshToken: string): Promise<AuthPayload> {
    const { token, expiresIn } = await this.tokens.issueAccessToken(user);
    return { accessToken: token, refreshToken, tokenType: 'Bearer', expiresIn, user };
  }
}
