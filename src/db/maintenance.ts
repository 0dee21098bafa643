import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { SETTING } from '../../security/system/database-policies.js';
import { dangerouslyBypassRowSecurity } from '../../security/system/row-security.js';
import { setLocal } from './request-transaction.js';

/**
 * Seeding and other maintenance: one transaction that neither the application filter nor the
 * database's policies restrict. FORCE ROW LEVEL SECURITY applies to the tables' owner too, so the
 * transaction declares itself the superuser to the policies, for its own duration only.
 */
export function asMaintenance<T>(orm: MikroORM, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return dangerouslyBypassRowSecurity(orm.em).transactional(async (em) => {
    await setLocal(em, [[SETTING.superuser, 'on']]);
    return work(em);
  });
}
