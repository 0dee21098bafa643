/**
 * A connection shape measures the page after the first (its cursor decoded and followed on every
 * request), not the first page alone. Its query holds AFTER where the `after` argument goes: the first
 * page is read without it, and the measured query is the same one after that page's `endCursor`.
 */
export const AFTER = '<AFTER>';

/** The first `endCursor` anywhere in a GraphQL answer. */
function endCursorOf(value: unknown): unknown {
  if (!value || typeof value !== 'object') return undefined;
  if ('endCursor' in value) return value.endCursor;
  for (const field of Object.values(value)) {
    const found = endCursorOf(field);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `query` with AFTER replaced by the first page's end cursor (a query without AFTER is returned as it is). */
export async function afterFirstPage(
  query: string,
  post: (query: string) => Promise<string>,
): Promise<string> {
  if (!query.includes(AFTER)) return query;
  const first = await post(query.replace(AFTER, ''));
  const cursor = endCursorOf((JSON.parse(first) as { data?: unknown }).data);
  if (typeof cursor !== 'string') throw new Error(`no endCursor in the first page: ${first.slice(0, 300)}`);
  return query.replace(AFTER, `, after: ${JSON.stringify(cursor)}`);
}
