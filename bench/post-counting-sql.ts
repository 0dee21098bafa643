import { type QueryLog } from '../src/db/query-log.js';
import { type SentStatement } from './pgbench-reference.js';

/** One GraphQL request over HTTP: its answer as sent, and the SQL statements it ran (with their values in `sent`). */
export async function postCountingSql(
  gateway: { url: string; queryLog: QueryLog },
  query: string,
  authorization: string,
): Promise<{ body: string; statements: string[]; sent: SentStatement[] }> {
  const sent: SentStatement[] = [];
  const stop = gateway.queryLog.listen((sql, context) =>
    sent.push({ sql, params: (context.params as unknown[] | undefined) ?? [] }),
  );
  try {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query }),
    });
    return { body: await response.text(), statements: sent.map((each) => each.sql), sent };
  } finally {
    stop();
  }
}
