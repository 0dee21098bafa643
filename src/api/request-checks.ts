import { type RequestContext } from '../context.js';
import { type RequestSecurity } from '../../security/system/request-security.js';
import { unauthenticated } from '../auth/auth-service.js';
import { type EntityModel } from './entity-model.js';
import { type ListArguments, type RelationVisibility, referencedFields } from './query-arguments.js';

/*
 * The checks a request's operations and read plans ask of its security before anything runs: the
 * decisions are the security model's (security/system/), these only put the request's questions.
 */

/** The request's security; the guard lets no data field run without an authenticated user. */
export function securityOf(ctx: RequestContext): RequestSecurity {
  if (!ctx.security) throw unauthenticated('Authentication required');
  return ctx.security;
}

/** The verb check, and FORBIDDEN for filtering or sorting on a field the user may not read. */
export function authorizeRead(
  ctx: RequestContext,
  model: EntityModel,
  args: Pick<ListArguments, 'where' | 'orderBy'> = {},
) {
  const security = securityOf(ctx);
  security.authorize(model.name, 'read');
  for (const field of referencedFields(args)) security.authorizeField(model.name, field);
}

/** Relation ids in `where` and `orderBy` match and sort only through related rows the user can see. */
export function relationVisibility(
  security: RequestSecurity | undefined,
  model: EntityModel,
): RelationVisibility {
  const ask = () => {
    if (!security) throw unauthenticated('Authentication required');
    return security;
  };
  return {
    visible: (relation) => ask().relatedRowVisible(model.name, relation.name),
    sortKey: (relation) => ask().relatedSortKey(model.name, relation.name),
  };
}
