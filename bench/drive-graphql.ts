import autocannon from 'autocannon';

/** A JSON answer with every number to 12 significant digits. */
const rounded = (body: string) =>
  JSON.stringify(
    JSON.parse(body, (_key, value: unknown) =>
      typeof value === 'number' ? Number(value.toPrecision(12)) : value,
    ),
  );

/**
 * Whether `body` is the answer `expected`: the same text, or the same with numbers to 12 significant
 * digits. A sum or average of a float column is not the same to the last digit from one request to
 * the next: PostgreSQL's parallel workers add the rows in an order of their own (X3 and X4 at scale
 * 500).
 */
export function sameAnswer(body: string, expected: string): boolean {
  if (body === expected) return true;
  try {
    return rounded(body) === rounded(expected);
  } catch {
    return false;
  }
}

/** The answer to one GraphQL query sent over HTTP, as its body's text. */
export async function answerOf(url: string, query: string, authorization: string): Promise<string> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: JSON.stringify({ query }),
  });
  return response.text();
}

/** One GraphQL query over HTTP, and the answer every response must be (sameAnswer). */
export interface GraphqlLoad {
  url: string;
  query: string;
  authorization: string;
  expected: string;
  connections: number;
}

/** autocannon's options for `load`: an answer that is not `expected` is counted as a mismatch. */
const checkedLoad = (load: GraphqlLoad): autocannon.Options => ({
  url: load.url,
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: load.authorization },
  body: JSON.stringify({ query: load.query }),
  connections: load.connections,
  verifyBody: (body) => sameAnswer(String(body), load.expected),
});

/** Responses that failed, were not 2xx, or were not the expected answer. */
const badAnswers = (result: autocannon.Result) => result.errors + result.non2xx + result.mismatches;

/**
 * Load on one GraphQL query over HTTP for `seconds`, after 2 s of warm-up that is not counted (plans
 * and JIT settled). Every answer must be `expected` (sameAnswer); those that are not are counted as bad.
 */
export async function driveGraphql(options: GraphqlLoad & { seconds: number }) {
  const result = await autocannon({
    ...checkedLoad(options),
    duration: options.seconds,
    // autocannon's warm-up (its types do not list it).
    ...{ warmup: { connections: options.connections, duration: 2 } },
  });
  return { rps: result.requests.average, p50: result.latency.p50, bad: badAnswers(result) };
}

/** `amount` requests of one GraphQL query over HTTP, checked as driveGraphql checks them; no warm-up. */
export async function driveGraphqlRequests(options: GraphqlLoad & { amount: number }) {
  const result = await autocannon({ ...checkedLoad(options), amount: options.amount });
  return { rps: result.requests.total / result.duration, bad: badAnswers(result) };
}

/** The middle of `all` (of an even count, the higher of the two middle values). */
export const median = (all: number[]) => [...all].sort((a, b) => a - b)[Math.floor(all.length / 2)]!;
