import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { type SecurityModel } from '../../security/system/security-model.js';
import { asMaintenance } from '../db/maintenance.js';

/** How many rows of an entity a user reads under two revisions of the declarations (null: no read). */
export interface VisibleRowsChange {
  user: string;
  entity: string;
  before: number | null;
  after: number | null;
}

/**
 * The rows of `entityName` that `user` reads under `model`: its verb, then its row predicate, counted
 * in a transaction no filter or policy restricts (the maintenance one), so that two revisions of the
 * declarations are counted on the same rows by their own rules alone.
 */
async function visibleRows(
  em: EntityManager,
  model: SecurityModel,
  user: AuthUser,
  entityName: string,
): Promise<number | null> {
  if (!model.allows(user, entityName, 'read')) return null;
  const meta = model.entity(entityName);
  return em.count(meta.class, model.predicate(user, entityName) as never);
}

/**
 * What changes, per user and entity, in the rows each reads, from the declarations compiled as
 * `before` to those compiled as `after` (both against the same entities): what `security:diff` adds to
 * the rules' differences when it has a database. Counted now, on the database's current rows.
 */
export function visibleRowChanges(
  orm: MikroORM,
  before: SecurityModel,
  after: SecurityModel,
  users: AuthUser[],
): Promise<VisibleRowsChange[]> {
  return asMaintenance(orm, async (em) => {
    const changes: VisibleRowsChange[] = [];
    for (const user of users) {
      for (const meta of after.securedEntities()) {
        const was = await visibleRows(em, before, user, meta.className);
        const is = await visibleRows(em, after, user, meta.className);
        if (was !== is) changes.push({ user: user.id, entity: meta.className, before: was, after: is });
      }
    }
    return changes;
  });
}

const rowsText = (rows: number | null) => (rows === null ? 'no read' : `${rows} row${rows === 1 ? '' : 's'}`);

/** The changes as a reviewer reads them: one line per user and entity. */
export function visibleRowChangesText(changes: VisibleRowsChange[], users: AuthUser[]): string {
  const who = users.map((user) => user.id).join(', ');
  if (changes.length === 0) return `No change to the rows ${who} read${users.length === 1 ? 's' : ''}.`;
  return [
    `Rows read, counted now (${who}):`,
    ...changes.map(
      (change) =>
        `  ${change.user}, ${change.entity}: ${rowsText(change.before)} → ${rowsText(change.after)}`,
    ),
  ].join('\n');
}
