import { type RequestContext } from '../context.js';
import { type RequestSecurity } from '../../security/system/request-security.js';
import { unauthenticated } from '../auth/auth-service.js';
import { type ColumnPair, type EntityModel } from './entity-model.js';
import { type ListArguments, type RelationVisibility, type WhereInput } from './query-arguments.js';
import { visibleRowsSql } from '../../security/system/row-security.js';

/*
 * The checks a request's operations and read plans ask of its security before anything runs: the
 * decisions are the security model's (security/system/), these only put the request's questions.
 */

/** The request's security; the guard lets no data field run without an authenticated user. */
export function securityOf(ctx: RequestContext): RequestSecurity {
  if (!ctx.security) throw unauthenticated('Authentication required');
  return ctx.security;
}

/**
 * The verb check, and FORBIDDEN for filtering or sorting on a field the user may not read — in a
 * relation filter too, where the related entity must be readable (through its join table, that too).
 */
export function authorizeRead(
  ctx: RequestContext,
  model: EntityModel,
  args: Pick<ListArguments, 'where' | 'orderBy'> = {},
) {
  const security = securityOf(ctx);
  security.authorize(model.name, 'read');
  authorizeWhere(security, model, args.where);
  for (const key of args.orderBy ?? [])
    for (const field of Object.keys(key)) security.authorizeField(model.name, field);
}

function authorizeWhere(security: RequestSecurity, model: EntityModel, where: WhereInput | null | undefined) {
  for (const [field, value] of Object.entries(where ?? {})) {
    if (field === 'AND' || field === 'OR') {
      for (const part of (value as WhereInput[] | null) ?? []) authorizeWhere(security, model, part);
      continue;
    }
    if (field === 'NOT') {
      authorizeWhere(security, model, value as WhereInput | null);
      continue;
    }
    const toOne = model.toOne.find((relation) => relation.name === field);
    const toMany = model.toMany.find((relation) => relation.name === field);
    const target = (toOne ?? toMany)?.target;
    if (!target) {
      security.authorizeField(model.name, field);
      continue;
    }
    if (toMany?.through) security.authorize(toMany.through.pivot.name, 'read');
    security.authorize(target.name, 'read');
    authorizeReferenceColumns(security, model, target, (toOne ?? toMany)!.byColumns);
    if (toOne) authorizeWhere(security, target, value as WhereInput | null);
    else
      for (const quantified of Object.values((value as Record<string, WhereInput | null>) ?? {}))
        authorizeWhere(security, target, quantified);
  }
}

/**
 * A reference by columns relates rows by the values of those columns on both sides: following it
 * (as a field or in a filter) tells what they hold, so it takes leave to read each of them.
 */
export function authorizeReferenceColumns(
  security: RequestSecurity,
  model: EntityModel,
  target: EntityModel,
  byColumns: readonly ColumnPair[] | undefined,
) {
  for (const [own, theirs] of byColumns ?? []) {
    security.authorizeField(model.name, own);
    security.authorizeField(target.name, theirs);
  }
}

/** What the request's security says of related rows, for the `where` and `orderBy` of its reads. */
export function relationVisibility(ctx: RequestContext): RelationVisibility {
  const ask = () => securityOf(ctx);
  return {
    visible: (model, relation) => ask().relatedRowVisible(model.name, relation.name),
    sortKey: (model, relation) => ask().relatedSortKey(model.name, relation.name),
    // The same condition every level of a compiled read carries (and the security filter every ORM read).
    rows: (model, row) => visibleRowsSql(ctx.em, model.name, row),
  };
}
