import { type MikroORM } from '@mikro-orm/postgresql';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { RequestSecurity } from '../../security/system/request-security.js';
import { compileConstant } from '../../security/system/sql-fragment.js';
import { restrictTo } from '../../security/system/row-security.js';
import { type SecuredEntity } from '../../security/system/secured-entity.js';
import { type AppliedRule, type ApiVerb, type SecurityModel } from '../../security/system/security-model.js';
import { type DatabaseSecurity, requestSettings, setLocal } from '../db/request-transaction.js';

/** What one user may do with one entity, and why (SPEC §10). */
export interface EntityExplanation {
  verbs: Record<ApiVerb, boolean>;
  /** Whether the user may aggregate (count, sum, group) what it reads (see `noAggregates`). */
  aggregate: boolean;
  /** The rows the user reads; absent when the user may not read the entity. */
  rows?: number;
  rules: AppliedRule[];
  /** The row predicate as SQL, with the user's values in it ("true": every row). */
  predicate: string;
}

export interface Explanation {
  user: string;
  entities: Record<string, EntityExplanation>;
}

export interface ExplainContext {
  orm: MikroORM;
  model: SecurityModel;
  /** How requests meet the database's policies (the role a request switches to, if any). */
  databaseSecurity: DatabaseSecurity;
}

/**
 * Explains `user` entity by entity. The rows are counted as a request of that user would read them —
 * the gateway's filter and the database's policies both on, in a transaction carrying the user's
 * settings — and the transaction is rolled back, so explaining never changes anything.
 */
export async function explainUser(
  context: ExplainContext,
  user: AuthUser,
  options: { entities?: string[] } = {},
): Promise<Explanation> {
  const { orm, model } = context;
  const em = orm.em.fork();
  const security = new RequestSecurity(model, user);
  restrictTo(em, security);
  const chosen = model
    .securedEntities()
    .filter((meta) => !options.entities || options.entities.includes(meta.className));
  const entities: Record<string, EntityExplanation> = {};
  await em.begin();
  try {
    await setLocal(em, requestSettings(security, context.databaseSecurity));
    for (const meta of chosen) {
      const verbs = model.verbs(user, meta.className);
      entities[meta.className] = {
        verbs,
        aggregate: model.mayAggregate(user, meta.className),
        ...(verbs.read ? { rows: await em.count(meta.class, {}) } : {}),
        rules: model.rulesFor(user, meta.className),
        predicate: predicateSql(model, user, meta),
      };
    }
  } finally {
    await em.rollback();
  }
  return { user: user.id, entities };
}

/**
 * The predicate as the gateway renders it on the row `e0`, with the user's values written out, for a
 * person to read (the gateway binds them).
 */
function predicateSql(model: SecurityModel, user: AuthUser, meta: SecuredEntity): string {
  const predicate = model.rowSql(user, meta.className, 'e0', { values: 'inline' });
  return predicate ? compileConstant(predicate) : 'true';
}
