import { type MetadataStorage, MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import policy from '../../security/declare-security.js';
import { type DatabasePolicies, policyStatements } from '../../security/system/database-policies.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import { migrations } from './migrations/index.js';
import { createOrmOptions } from './orm-config.js';
import { QueryLog } from './query-log.js';

/** The entities' metadata without a database: MikroORM's constructor discovers them without connecting. */
function discoverMetadata(): MetadataStorage {
  const orm = new MikroORM(
    createOrmOptions({
      clientUrl: 'postgres://127.0.0.1/metadata-only',
      queryLog: new QueryLog(pino({ level: 'silent' })),
    }),
  );
  return orm.getMetadata();
}

/**
 * The policies the declarations call for; from an open ORM's metadata when there is one. A mistake in
 * the declarations (an entity no tenant rule covers, …) throws SecurityDeclarationError.
 */
export function declaredPolicies(metadata: MetadataStorage = discoverMetadata()): DatabasePolicies {
  return compileSecurityModel(policy, metadata).databasePolicies;
}

export const declaredPolicyStatements = (): string[] => policyStatements(declaredPolicies());

/** The newest committed `*_row_security` migration and the statements it applies. */
export function latestSecurityMigration(): { name: string; statements: string[] } | undefined {
  const latest = migrations.filter((m) => m.name.endsWith('_row_security')).at(-1);
  if (!latest) return undefined;
  return { name: latest.name, statements: (latest.class as unknown as { statements: string[] }).statements };
}
