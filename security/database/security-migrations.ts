import { type MetadataStorage, MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import { type DatabasePolicies, policyStatements } from '../system/database-policies.js';
import { compileSecurityModel } from '../system/security-model.js';
import { type Domain } from '../../src/domain.js';
import { createOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';

/** The entities' metadata without a database: MikroORM's constructor discovers them without connecting. */
export function discoverMetadata(domain: Domain): MetadataStorage {
  const orm = new MikroORM(
    createOrmOptions({
      clientUrl: 'postgres://127.0.0.1/metadata-only',
      queryLog: new QueryLog(pino({ level: 'silent' })),
      entities: domain.entities,
    }),
  );
  return orm.getMetadata();
}

/**
 * The policies a domain's declarations call for; from an open ORM's metadata when there is one. A
 * mistake in the declarations (an entity no tenant rule covers, …) throws SecurityDeclarationError.
 */
export function declaredPolicies(
  domain: Domain,
  metadata: MetadataStorage = discoverMetadata(domain),
): DatabasePolicies {
  return compileSecurityModel(domain.policy, metadata).databasePolicies;
}

export const declaredPolicyStatements = (domain: Domain): string[] =>
  policyStatements(declaredPolicies(domain));

/** The newest committed `*_row_security` migration of a domain and the statements it applies. */
export function latestSecurityMigration(domain: Domain): { name: string; statements: string[] } | undefined {
  const latest = domain.migrations.filter((m) => m.name.endsWith('_row_security')).at(-1);
  if (!latest) return undefined;
  return { name: latest.name, statements: (latest.class as unknown as { statements: string[] }).statements };
}
