import express, { type Router } from 'express';
import { GraphQLError } from 'graphql';
import { type AuthService } from '../auth/auth-service.js';

/**
 * `POST /api/auth/login` for front-ends written against API Logic Server (`{"access_token": …}`,
 * 401 on failure, 429 when throttled), and `/.well-known/jwks.json` when tokens are signed with an
 * asymmetric key.
 */
export function authRoutes(auth: AuthService): Router {
  const router = express.Router();
  router.post('/api/auth/login', express.json({ limit: '16kb' }), async (req, res, next) => {
    const { username, password } = (req.body ?? {}) as Record<string, unknown>;
    if (typeof username !== 'string' || typeof password !== 'string') {
      res.status(400).json({ error: 'username and password are required strings' });
      return;
    }
    try {
      const payload = await auth.login(username, password, req.ip ?? 'unknown');
      res.json({
        access_token: payload.accessToken,
        refresh_token: payload.refreshToken,
        token_type: payload.tokenType,
        expires_in: payload.expiresIn,
      });
    } catch (error) {
      if (!(error instanceof GraphQLError)) return next(error);
      const retryAfter = error.extensions.retryAfterSeconds as number | undefined;
      if (retryAfter) res.setHeader('Retry-After', String(retryAfter));
      res.status(statusFor(error)).json({ error: error.message });
    }
  });
  router.get('/.well-known/jwks.json', (_req, res) => {
    if (auth.jwks) res.json(auth.jwks);
    else res.status(404).json({ error: 'tokens are signed with a shared secret; there are no public keys' });
  });
  return router;
}

/** 429 throttled, 503 identity provider unreachable, 400 bad input, 401 refused credentials. */
function statusFor(error: GraphQLError): number {
  if (error.extensions.retryAfterSeconds) return 429;
  if (error.extensions.providerUnavailable) return 503;
  return error.extensions.code === 'BAD_USER_INPUT' ? 400 : 401;
}
