import { createHash, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import {
  type CryptoKey,
  exportJWK,
  importPKCS8,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  type KeyObject,
  SignJWT,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { type AuthUser } from '../../auth-providers/auth-provider.js';

/** The `typ` header of our access tokens: a token of another kind (an ID token, a refresh JWT) is refused. */
const ACCESS_TOKEN_TYPE = 'at+jwt';
/**
 * The `typ` of a security console session (the console's cookie): signed with the same key, but never
 * accepted as an access token, nor an access token as a console session.
 */
export const CONSOLE_SESSION_TYPE = 'console+jwt';
/**
 * The audience of a console session: the gateway's own with this suffix, so that a service which
 * accepts the gateway's access tokens by its published keys (and may not look at `typ`) refuses it.
 */
export const consoleSessionAudience = (audience: string) => `${audience}#console`;
const CLOCK_TOLERANCE_SECONDS = 30;
/**
 * Access tokens whose signature and claims were checked, kept with the user they speak for: a client
 * sends the same token with every request until it expires, and checking it again cost ~6 % of a
 * request's CPU (an HMAC key import and verification). Least recently used beyond this are forgotten.
 */
const VERIFIED_TOKENS = 5000;

interface VerifiedToken {
  user: AuthUser;
  /** Milliseconds since the epoch at which the token is no longer accepted from the cache. */
  validUntil: number;
}

interface SigningKey {
  algorithm: 'HS256' | 'EdDSA' | 'RS256';
  sign: Uint8Array | CryptoKey | KeyObject;
  verify: Uint8Array | CryptoKey | KeyObject;
  keyId?: string;
  jwks?: JSONWebKeySet;
  /** The secret the key was made from (the shared secret, or the private key's PEM): see `keyFor`. */
  material: Uint8Array;
}

export class InvalidTokenError extends Error {}

export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
}

/**
 * Issues and verifies the gateway's access tokens (jose). Verification pins the algorithm and
 * requires exp, iss, aud, typ and an age within the token lifetime, with at most 30 s clock skew.
 */
export class TokenService {
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: VERIFIED_TOKENS });

  private constructor(
    private readonly key: SigningKey,
    private readonly settings: TokenSettings,
  ) {}

  /** HS256 with a shared secret (at least 32 bytes). */
  static withSecret(secret: string, settings: TokenSettings): TokenService {
    const bytes = new TextEncoder().encode(secret);
    return new TokenService({ algorithm: 'HS256', sign: bytes, verify: bytes, material: bytes }, settings);
  }

  /** EdDSA or RS256 with a PEM private key; the public half is published as a JWKS. */
  static async withPrivateKey(pem: string, settings: TokenSettings): Promise<TokenService> {
    const algorithm = pem.includes('BEGIN PRIVATE KEY') && isEd25519(pem) ? 'EdDSA' : 'RS256';
    const privateKey = await importPKCS8(pem, algorithm, { extractable: true });
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = await exportJWK(privateKey);
    const keyId = createHash('sha256').update(JSON.stringify(publicJwk)).digest('base64url').slice(0, 16);
    return new TokenService(
      {
        algorithm,
        sign: privateKey,
        verify: privateKey,
        keyId,
        jwks: { keys: [{ ...publicJwk, kid: keyId, alg: algorithm, use: 'sig' }] },
        material: new TextEncoder().encode(pem),
      },
      settings,
    );
  }

  /**
   * A key of its own for another of the gateway's signatures (`purpose` names it), derived from the
   * token key by HKDF: every instance configured alike derives the same one, with no setting more,
   * and neither key tells anything of the other.
   */
  keyFor(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key.material, '', purpose, 32));
  }

  /** The public keys to publish at /.well-known/jwks.json, or undefined for a shared secret. */
  get jwks(): JSONWebKeySet | undefined {
    return this.key.jwks;
  }

  async issueAccessToken(user: AuthUser): Promise<{ token: string; expiresIn: number }> {
    const token = await new SignJWT({
      name: user.name ?? null,
      roles: user.roles,
      attributes: user.attributes,
    })
      .setProtectedHeader({
        alg: this.key.algorithm,
        typ: ACCESS_TOKEN_TYPE,
        ...(this.key.keyId ? { kid: this.key.keyId } : {}),
      })
      .setSubject(user.id)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt()
      .setExpirationTime(`${this.settings.accessTokenTtlSeconds}s`)
      .setJti(randomUUID())
      .sign(this.key.sign);
    return { token, expiresIn: this.settings.accessTokenTtlSeconds };
  }

  /**
   * A security console session for `user` (its id and roles, nothing else), as long-lived as an access
   * token: the console's cookie carries it, so that later views need no password (SPEC §8).
   */
  async issueConsoleSession(user: AuthUser): Promise<{ token: string; expiresIn: number }> {
    const token = await new SignJWT({ roles: user.roles })
      .setProtectedHeader({
        alg: this.key.algorithm,
        typ: CONSOLE_SESSION_TYPE,
        ...(this.key.keyId ? { kid: this.key.keyId } : {}),
      })
      .setSubject(user.id)
      .setIssuer(this.settings.issuer)
      .setAudience(consoleSessionAudience(this.settings.audience))
      .setIssuedAt()
      .setExpirationTime(`${this.settings.accessTokenTtlSeconds}s`)
      .sign(this.key.sign);
    return { token, expiresIn: this.settings.accessTokenTtlSeconds };
  }

  /**
   * The user id and roles a valid console session speaks for, checked like an access token (pinned
   * algorithm, iss, aud, typ, exp and age); anything else is an InvalidTokenError. Not cached: a view
   * of the console runs many queries, one signature check is nothing beside them.
   */
  async verifyConsoleSession(token: string): Promise<AuthUser> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key.verify, {
        algorithms: [this.key.algorithm],
        issuer: this.settings.issuer,
        audience: consoleSessionAudience(this.settings.audience),
        typ: CONSOLE_SESSION_TYPE,
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: `${this.settings.accessTokenTtlSeconds}s`,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch {
      throw new InvalidTokenError('invalid or expired console session');
    }
    const { roles } = payload as JWTPayload & Record<string, unknown>;
    if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
      throw new InvalidTokenError('console session without roles');
    }
    return { id: payload.sub!, name: null, roles: [...(roles as string[])], attributes: {} };
  }

  /** The user a valid access token speaks for; any other token is an InvalidTokenError. */
  async verifyAccessToken(token: string): Promise<AuthUser> {
    const cached = this.verified.get(token);
    if (cached && Date.now() < cached.validUntil) return cached.user;
    const verified = await this.verify(token);
    // Only a valid token is kept (the key is the whole signed token, so no other string can hit it).
    if (Date.now() < verified.validUntil) this.verified.set(token, verified);
    return verified.user;
  }

  private async verify(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.key.verify, {
        algorithms: [this.key.algorithm],
        issuer: this.settings.issuer,
        audience: this.settings.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        maxTokenAge: `${this.settings.accessTokenTtlSeconds}s`,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch {
      throw new InvalidTokenError('invalid or expired token');
    }
    const { sub, name, roles, attributes, exp, iat } = payload as JWTPayload & Record<string, unknown>;
    if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) {
      throw new InvalidTokenError('token without roles');
    }
    if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
      throw new InvalidTokenError('token without attributes');
    }
    // One user object serves every request of a cached token: frozen, so no request can change it for
    // the next one.
    const user: AuthUser = Object.freeze({
      id: sub!,
      name: typeof name === 'string' ? name : null,
      roles: Object.freeze([...roles]) as string[],
      attributes: Object.freeze({ ...(attributes as Record<string, unknown>) }),
    });
    // The earlier of its expiry and its maximum age, without the clock tolerance: a cached token is
    // never accepted longer than jose would accept it.
    const validUntil = Math.min(exp!, iat! + this.settings.accessTokenTtlSeconds) * 1000;
    return { user, validUntil };
  }
}

function isEd25519(pem: string): boolean {
  // An Ed25519 PKCS#8 key is 48 bytes; an RSA one is hundreds.
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return der.length < 100;
}

/** A random secret for development, when JWT_SECRET is not set. */
export function generateSecret(): string {
  return randomBytes(48).toString('base64url');
}
