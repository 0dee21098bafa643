import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { isTransactionFraming, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const DEADLINE_MS = 500;
const DEADLINE_MESSAGE = 'The request took too long and was stopped.';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ settings: { ...DEFAULT_GATEWAY_SETTINGS, requestTimeoutMs: DEADLINE_MS } });
  // The first statement of a new pool also checks the database exists; keep it out of the timings.
  await t.execute(parse('{ shippers(limit: 1) { id } }') as never);
});
afterAll(() => t?.close());

/**
 * Runs `query` and, when the statement matching `slow` has returned, keeps the event loop busy until
 * the request's deadline has passed: the statement itself finished in time, but everything after it
 * starts late, as when a busy process completes a large response and its abort timer fires late.
 * Returns the answer and the statements logged once the deadline had passed.
 */
async function runPastDeadline(query: string, slow: RegExp) {
  const afterDeadline: string[] = [];
  let late = false;
  const started = performance.now();
  const stop = t.queryLog.listen((sql) => {
    if (late) afterDeadline.push(sql);
    else if (slow.test(sql)) {
      // The deadline is set once the request context exists, a little after `started`.
      while (performance.now() < started + DEADLINE_MS + 100);
      late = true;
    }
  });
  try {
    const result = await t.execute(parse(query) as never);
    return { result, late, afterDeadline };
  } finally {
    stop();
  }
}

describe('the deadline stops the resolvers, not only the SQL', () => {
  it('a read whose statement comes back past the deadline is not answered, nor anything after it run', async () => {
    const { result, late, afterDeadline } = await runPastDeadline(
      '{ customers(limit: 5, orderBy: [{ id: ASC }]) { id orders(limit: 2) { id details(limit: 2) { id } } } }',
      /from "customer"/,
    );
    expect(late).toBe(true);
    expect(result.data).toBeNull();
    expect(result.errors).toEqual([
      expect.objectContaining({
        message: DEADLINE_MESSAGE,
        extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }),
      }),
    ]);
    // Only the request transaction's end.
    expect(afterDeadline.filter((sql) => !isTransactionFraming(sql))).toEqual([]);
  });

  it('a mutation that wrote in time does not read its answer back after the deadline', async () => {
    const { result, late, afterDeadline } = await runPastDeadline(
      `mutation { updateShipper(id: "1", input: { phone: "(503) 555-0009" }) { id phone } }`,
      // The write's last statement; the compiled read-back of `{ id phone }` would come next.
      /^release savepoint/,
    );
    expect(late).toBe(true);
    expect(result.errors).toEqual([
      expect.objectContaining({ message: DEADLINE_MESSAGE, path: ['updateShipper'] }),
    ]);
    expect(afterDeadline.filter((sql) => !isTransactionFraming(sql))).toEqual([]);
  });

  it('a root field that starts after the deadline writes nothing', async () => {
    const phone = async () =>
      (await t.db.sql.query<{ phone: string }>('select phone from shipper where id = 2')).rows[0]!.phone;
    const before = await phone();
    const { result, late, afterDeadline } = await runPastDeadline(
      `mutation {
         first: updateShipper(id: "1", input: { phone: "(503) 555-0001" }) { id }
         second: updateShipper(id: "2", input: { phone: "written after the deadline" }) { id }
       }`,
      // The first field's last statement; mutation fields run one after the other.
      /^release savepoint/,
    );
    expect(late).toBe(true);
    expect(result.errors?.[0]?.message).toBe(DEADLINE_MESSAGE);
    expect(afterDeadline.filter((sql) => !isTransactionFraming(sql))).toEqual([]);
    expect(await phone()).toBe(before);
  });
});
