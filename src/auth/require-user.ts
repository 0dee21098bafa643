import { type MiddlewareFn } from 'type-graphql';
import { type RequestContext } from '../context.js';
import { unauthenticated } from './auth-service.js';

/** Root operations anyone may call; every other root field is guarded by requireUser. */
export const PUBLIC_OPERATIONS = new Set(['login', 'refreshToken']);

/** Data operations need an authenticated user; a refused token is UNAUTHENTICATED, never anonymous. */
export const requireUser: MiddlewareFn<RequestContext> = ({ context }, next) => {
  if (context.identity.invalidToken) throw unauthenticated('Invalid or expired access token');
  if (!context.identity.user)
    throw unauthenticated('Authentication required: log in and send Authorization: Bearer <token>');
  return next();
};
