import { type EntityManager } from '@mikro-orm/postgresql';
import { CompiledQuery, type Transaction } from 'kysely';
import { badUserInput } from '../errors.js';

/** PostgreSQL's bound on a statement's parameters (the protocol's 16-bit count). */
export const MAX_BIND_PARAMETERS = 65_535;

/**
 * `?` placeholders to PostgreSQL's `$1, $2, …`, skipping quoted literals and identifiers (a builder
 * may have inlined values there already). The count must match, or nothing is sent.
 */
export function numberedPlaceholders(sql: string, parameters: number): string {
  let out = '';
  let count = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // E'…' strings escape with backslashes; all of them double their quote character.
      const backslashes = c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/\w/.test(sql[i - 2] ?? '');
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (backslashes && sql[j] === '\\') j++;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      out += sql.slice(i, j + 1);
      i = j;
    } else if (c === '?') out += `$${++count}`;
    else out += c;
  }
  if (count !== parameters) throw new Error(`bound query: ${count} placeholders for ${parameters} values`);
  return out;
}

/**
 * Runs a select within `em`'s transaction with its values as bind parameters — MikroORM's own
 * execute() inlines them into the text — so that the pool's client prepares it once per connection
 * (src/db/preparing-client.ts). It is logged like every statement (tests count them), and the
 * request's deadline, if given, cancels it in PostgreSQL. Outside a transaction (only the benchmark's baseline
 * without the database layer), MikroORM runs it as usual.
 */
export async function selectBound<T>(
  em: EntityManager,
  sql: string,
  params: readonly unknown[],
  deadline?: AbortSignal,
): Promise<T[]> {
  // The protocol counts a statement's parameters in 16 bits: past it the count wraps and PostgreSQL
  // reads another statement than the one meant. The variables' bounds (src/http/variable-bounds.ts)
  // keep a request far below it; a document that reuses one large variable in many places is refused.
  if (params.length > MAX_BIND_PARAMETERS)
    throw badUserInput(
      `This request needs more than ${MAX_BIND_PARAMETERS} values in one statement (MAX_BIND_PARAMETERS); ask for less at once`,
    );
  const transaction = em.getTransactionContext<Transaction<object>>();
  if (!transaction) return em.execute<T[]>(sql, [...params], 'all', em.getLoggerContext());
  const query = CompiledQuery.raw(numberedPlaceholders(sql, params.length), [...params]);
  // Reported to the ORM's logger as its own statements are (the request id, the time it took).
  const log = (context: object) =>
    em.config.getLogger().logQuery({ ...em.getLoggerContext(), query: sql, params: [...params], ...context });
  const started = Date.now();
  try {
    const { rows } = await transaction.executeQuery<T>(
      query,
      deadline && { signal: deadline, inflightQueryAbortStrategy: 'cancel query' },
    );
    log({ level: 'info', took: Date.now() - started, results: rows.length });
    return rows;
  } catch (error) {
    log({ level: 'error', took: Date.now() - started });
    throw error;
  }
}
