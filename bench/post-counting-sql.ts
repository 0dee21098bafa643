import { type QueryLog } from '../src/db/query-log.js';

/** One GraphQL request over HTTP: its answer as sent, and the SQL statements it ran. */
export async function postCountingSql(
  gateway: { url: string; queryLog: QueryLog },
  query: string,
  authorization: string,
): Promise<{ body: string; statements: string[] }> {
  const statements: string[] = [];
  const stop = gateway.queryLog.listen((sql) => statements.push(sql));
  try {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query }),
    });
    return { body: await response.text(), statements };
  } finally {
    stop();
  }
}
