import { type EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type Transaction } from 'kysely';
import { type CompiledSql } from '../../security/system/sql-fragment.js';
import { badUserInput } from '../errors.js';

/** PostgreSQL's bound on a statement's parameters (the protocol's 16-bit count). */
export const MAX_BIND_PARAMETERS = 65_535;

/**
 * Runs a select (compiled: `$1, $2, …` and their values) within `em`'s transaction with its values as
 * bind parameters — MikroORM's own execute() inlines them into the text — so that the pool's client
 * prepares it once per connection (src/db/preparing-client.ts). It is logged like every statement
 * (tests count them), and the request's deadline, if given, ends the wait for it. Outside a
 * transaction (only the benchmark's baseline without the database layer), on the connection's pool.
 */
export async function selectBound<T>(
  em: EntityManager,
  { sql, params }: CompiledSql,
  deadline?: AbortSignal,
): Promise<T[]> {
  // The protocol counts a statement's parameters in 16 bits: past it the count wraps and PostgreSQL
  // reads another statement than the one meant. The variables' bounds (src/http/variable-bounds.ts)
  // keep a request far below it; a document that reuses one large variable in many places is refused.
  if (params.length > MAX_BIND_PARAMETERS)
    throw badUserInput(
      `This request needs more than ${MAX_BIND_PARAMETERS} values in one statement (MAX_BIND_PARAMETERS); ask for less at once`,
    );
  const runner = em.getTransactionContext<Transaction<object>>() ?? em.getConnection().getClient<object>();
  const query = CompiledQuery.raw(sql, [...params]);
  // Reported to the ORM's logger as its own statements are (the request id, the time it took).
  const log = (context: object) =>
    em.config.getLogger().logQuery({ ...em.getLoggerContext(), query: sql, params: [...params], ...context });
  const started = Date.now();
  try {
    const { rows } = await runner.executeQuery<T>(
      query,
      // Cancelled in PostgreSQL by the pool's client (see createRequestContext).
      deadline && { signal: deadline, inflightQueryAbortStrategy: 'ignore query' },
    );
    log({ level: 'info', took: Date.now() - started, results: rows.length });
    return rows;
  } catch (error) {
    log({ level: 'error', took: Date.now() - started });
    throw error;
  }
}
