import { type MikroORM } from '@mikro-orm/postgresql';
import { type SecurityModel } from '../../security/system/security-model.js';
import { type Logger } from '../logger.js';
import { prepareDatabaseSecurity } from './database-role.js';
import { type DatabaseSecurity } from './request-transaction.js';

/**
 * Start-up for the second layer: report the global filters the database cannot express (the gateway
 * still enforces them), and prepare the role requests run as. `ownerOrm` is MIGRATION_DATABASE_URL's
 * connection when the gateway's own (`orm`) is the application role.
 */
export async function prepareRowSecurity(options: {
  orm: MikroORM;
  ownerOrm?: MikroORM;
  log: Logger;
  model: SecurityModel;
}): Promise<DatabaseSecurity> {
  const plan = options.model.databasePolicies;
  for (const filter of plan.appOnly) {
    options.log.warn(
      { globalFilter: filter.attribute, reason: filter.reason },
      `global filter "${filter.attribute}" is enforced by the gateway only: the database cannot express it`,
    );
  }
  const databaseSecurity = await prepareDatabaseSecurity({
    ownerOrm: options.ownerOrm ?? options.orm,
    appOrm: options.ownerOrm ? options.orm : undefined,
  });
  options.log.info(
    {
      requestsRunAs: databaseSecurity.switchToRole ?? 'the DATABASE_URL role',
      policies: plan.policies.length,
      tables: plan.tables,
      tablesWithoutRowSecurity: plan.unrestrictedTables,
    },
    'row security: the gateway filter, and PostgreSQL policies under the application role',
  );
  return databaseSecurity;
}
