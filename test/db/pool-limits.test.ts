import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dangerouslyBypassRowSecurity } from '../../security/system/row-security.js';
import { errorFormatter, serviceCondition } from '../../src/errors.js';
import { ListOrderIdsDocument } from '../../demo/northwind/__generated__/graphql.js';
import { capturedLog } from '../helpers/captured-log.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const BUSY = 'The service is busy: no database connection became free in time. Try again.';

let t: TestGateway;
const { log, lines: logLines } = capturedLog('info');
beforeAll(async () => {
  t = await startTestGateway({
    pool: { size: 1, acquireTimeoutMs: 300, statementTimeoutMs: 2000 },
    log,
  });
});
afterAll(() => t?.close());

describe('the connection pool', () => {
  it('when exhausted, a request waits a bounded time and then fails clearly instead of hanging', async () => {
    // Hold the only connection in an open transaction.
    const holder = dangerouslyBypassRowSecurity(t.orm.em);
    await holder.begin();
    await holder.getConnection().execute('select 1', [], 'all', holder.getTransactionContext());
    try {
      const started = performance.now();
      const result = await t.execute(ListOrderIdsDocument, { limit: 1 });
      const waited = performance.now() - started;
      expect(result.errors?.[0]).toMatchObject({
        message: BUSY,
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect(waited).toBeGreaterThanOrEqual(250);
      // The log says so once, as a warning without a stack: load is not an error to page anyone for.
      const logged = logLines.filter((line) => line.msg === BUSY);
      expect(logged).toMatchObject([{ level: 40, reason: expect.stringMatching(/timeout exceeded/) }]);
      expect(logged[0]).not.toHaveProperty('err');
      expect(logLines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    } finally {
      await holder.rollback();
    }
    // Once the connection is free again, requests succeed.
    expect((await t.execute(ListOrderIdsDocument, { limit: 1 })).errors).toBeUndefined();
  });

  it('sets PostgreSQL’s statement_timeout on its connections', async () => {
    const em = dangerouslyBypassRowSecurity(t.orm.em);
    const [row] = await em.getConnection().execute<{ statement_timeout: string }[]>('show statement_timeout');
    expect(row!.statement_timeout).toBe('2s');
  });

  it('answers a statement PostgreSQL cancelled at statement_timeout as a request that took too long', async () => {
    const em = dangerouslyBypassRowSecurity(t.orm.em);
    const cancelled = await em
      .getConnection()
      .execute('select pg_sleep(3)')
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(cancelled).toMatchObject({ code: '57014' });
    expect(serviceCondition(cancelled)).toBe('The request took too long and was stopped.');
    // What a client reads: that, not "Internal server error", and nothing of the statement.
    const formatted = errorFormatter({ production: true })({ message: String(cancelled) }, cancelled);
    expect(formatted).toEqual({
      message: 'The request took too long and was stopped.',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });
});
