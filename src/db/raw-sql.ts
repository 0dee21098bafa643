import { type EntityManager } from '@mikro-orm/postgresql';

/**
 * Runs one SQL statement (`?` placeholders) on `em`'s connection, inside its transaction when it has
 * one. For the database layer's own statements (settings, roles, policies), never for domain data.
 */
export function runSql<T = Record<string, unknown>>(
  em: EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  return em.getConnection().execute<T[]>(sql, params, 'all', em.getTransactionContext());
}
