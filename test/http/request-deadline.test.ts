import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { dangerouslyBypassRowSecurity } from '../../security/system/row-security.js';
import { ListOrderIdsDocument, UpdateShipperDocument } from '../../demo/northwind/__generated__/graphql.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { RequestDeadlineExceeded } from '../../src/http/request-deadline.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const DEADLINE_MS = 400;

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ settings: { ...DEFAULT_GATEWAY_SETTINGS, requestTimeoutMs: DEADLINE_MS } });
});
afterAll(() => t?.close());

/** Runs `work` while another session holds an exclusive lock on `table`, so every statement on it waits. */
async function whileLocked<T>(table: string, work: () => Promise<T>): Promise<T> {
  const holder = dangerouslyBypassRowSecurity(t.orm.em);
  await holder.begin();
  await holder
    .getConnection()
    .execute(`lock table "${table}" in access exclusive mode`, [], 'all', holder.getTransactionContext());
  try {
    return await work();
  } finally {
    await holder.rollback();
  }
}

/** Statements of this database that are still waiting, other than the lock holder's. */
async function waitingStatements(): Promise<number> {
  const em = dangerouslyBypassRowSecurity(t.orm.em);
  const [row] = await em.getConnection().execute<{ n: string }[]>(
    `select count(*) as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
  );
  return Number(row!.n);
}

describe('the per-request deadline (REQUEST_TIMEOUT)', () => {
  it('stops a read that outlives it, cancels its query in PostgreSQL and says why', async () => {
    const { result, waited, stillWaiting } = await whileLocked('order', async () => {
      const started = performance.now();
      const result = await t.execute(ListOrderIdsDocument, { limit: 1 });
      const waited = performance.now() - started;
      // The cancel request travels on its own connection; give it a moment to land.
      const stillWaiting = await vi.waitFor(async () => {
        const n = await waitingStatements();
        if (n > 0) throw new Error(`${n} statements still wait on the lock`);
        return n;
      });
      return { result, waited, stillWaiting };
    });
    expect(result.data).toBeNull();
    expect(result.errors?.[0]).toMatchObject({
      message: 'The request took too long and was stopped.',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(waited).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
    // The query was cancelled, not merely abandoned: nothing of it still waits on the lock.
    expect(stillWaiting).toBe(0);
    expect((await t.execute(ListOrderIdsDocument, { limit: 1 })).errors).toBeUndefined();
  });

  it('rolls back a write that outlives it', async () => {
    const before = await dangerouslyBypassRowSecurity(t.orm.em)
      .getConnection()
      .execute<{ company_name: string }[]>('select company_name from shipper where id = 1');
    const result = await whileLocked('shipper', async () => {
      const answer = await t.execute(UpdateShipperDocument, {
        id: '1',
        input: { companyName: 'Written after the deadline' },
      });
      // Cancelled while the lock is still held: the write does not wait for it to be released.
      await vi.waitFor(async () => expect(await waitingStatements()).toBe(0));
      return answer;
    });
    expect(result.errors?.[0]?.message).toBe('The request took too long and was stopped.');
    const after = await dangerouslyBypassRowSecurity(t.orm.em)
      .getConnection()
      .execute<{ company_name: string }[]>('select company_name from shipper where id = 1');
    expect(after).toEqual(before);
  });
});

describe('the deadline of a request answered in time', () => {
  it('ends with the answer: it never fires afterwards, for a query past Apollo, through it, or a mutation', async () => {
    const url = await t.gateway.listen(0, '127.0.0.1');
    const caller = await t.callerFor('sa');
    // The deadlines of the tests before, whose requests were not answered in time, fire before this counts.
    await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS + 100));
    const aborts = vi.spyOn(AbortController.prototype, 'abort');
    try {
      const post = async (query: string) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: caller!.authorization! },
          body: JSON.stringify({ query }),
        });
        expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
      };
      // Twice: Apollo answers a query text the first time, the fast path the next (query-fast-path.ts).
      await post('{ orders(limit: 1) { id } }');
      await post('{ orders(limit: 1) { id } }');
      await post('mutation { updateShipper(id: "1", input: { phone: "(503) 555-9831" }) { id } }');
      await new Promise((resolve) => setTimeout(resolve, DEADLINE_MS + 200));
      const deadlinesFired = aborts.mock.calls.filter(
        ([reason]) => reason instanceof RequestDeadlineExceeded,
      );
      expect(deadlinesFired).toHaveLength(0);
    } finally {
      aborts.mockRestore();
    }
  });
});
