import autocannon from 'autocannon';

/**
 * Load on one GraphQL query over HTTP for `seconds`, after 2 s of warm-up that is not counted (plans
 * and JIT settled). Every answer must equal `expected`; those that do not are counted as bad.
 */
export async function driveGraphql(options: {
  url: string;
  query: string;
  authorization: string;
  expected: string;
  connections: number;
  seconds: number;
}) {
  const result = await autocannon({
    url: options.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: options.authorization },
    body: JSON.stringify({ query: options.query }),
    connections: options.connections,
    duration: options.seconds,
    expectBody: options.expected,
    // autocannon's warm-up (its types do not list it).
    ...{ warmup: { connections: options.connections, duration: 2 } },
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    bad: result.errors + result.non2xx + result.mismatches,
  };
}

/** The middle of `all` (of an even count, the higher of the two middle values). */
export const median = (all: number[]) => [...all].sort((a, b) => a - b)[Math.floor(all.length / 2)]!;
