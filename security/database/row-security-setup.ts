import { type MikroORM } from '@mikro-orm/postgresql';
import { type SecurityModel } from '../system/security-model.js';
import { type Logger } from '../../src/logger.js';
import { prepareDatabaseSecurity } from './database-role.js';
import { type DatabaseSecurity } from '../../src/db/request-transaction.js';

/**
 * Start-up for the second layer: prepare the role requests run as (every global filter is in the
 * database's policies: one that could not be is refused with the declarations). `ownerOrm` is MIGRATION_DATABASE_URL's
 * connection when the gateway's own (`orm`) is the application role.
 */
export async function prepareRowSecurity(options: {
  orm: MikroORM;
  ownerOrm?: MikroORM;
  log: Logger;
  model: SecurityModel;
}): Promise<DatabaseSecurity> {
  const plan = options.model.databasePolicies;
  const databaseSecurity = await prepareDatabaseSecurity({
    ownerOrm: options.ownerOrm ?? options.orm,
    appOrm: options.ownerOrm ? options.orm : undefined,
  });
  options.log.info(
    {
      requestsRunAs: databaseSecurity.switchToRole ?? 'the DATABASE_URL role',
      policies: plan.policies.length,
      tables: plan.tables,
      tablesCheckedForVerbsOnly: plan.unrestrictedTables,
    },
    'row security: the gateway filter, and PostgreSQL policies under the application role',
  );
  return databaseSecurity;
}
