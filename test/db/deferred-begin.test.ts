import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparingClient } from '../../src/db/preparing-client.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * The pool's client sends `begin` with the statement that follows it (src/db/preparing-client.ts).
 * Whatever path that statement takes, the transaction must be open around it and what follows.
 */
let db: TestDatabase;
let client: PreparingClient;
beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  client = new PreparingClient({ connectionString: db.url });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const query = <T>(text: string, values: unknown[] = []) =>
  (client.query as unknown as (t: string, v: unknown[]) => Promise<{ rows: T[] }>)(text, values);

/** A temporary table made after `begin` exists afterwards only if the transaction was not open. */
async function survivesRollback(table: string): Promise<boolean> {
  await query(`create temp table ${table} (a int)`);
  await query('rollback');
  const [row] = (
    await query<{ exists: boolean }>(`select to_regclass('pg_temp.${table}') is not null as exists`)
  ).rows;
  return row!.exists;
}

describe('begin goes out with the next statement', () => {
  it('with a statement prepared earlier on the connection: its rows, inside the transaction', async () => {
    await query('select $1::int as n', [0]);
    await query('begin');
    expect((await query<{ n: number }>('select $1::int as n', [7])).rows).toEqual([{ n: 7 }]);
    expect(await survivesRollback('after_prepared')).toBe(false);
  });

  it('with a statement new to the connection', async () => {
    await query('begin');
    expect((await query<{ n: number }>('select $1::int + 1 as n', [7])).rows).toEqual([{ n: 8 }]);
    expect(await survivesRollback('after_new')).toBe(false);
  });

  it('with a statement without parameters, and with commit straight after', async () => {
    await query('begin');
    expect(await survivesRollback('after_plain')).toBe(false);
    await query('begin');
    await query('commit');
    expect((await query<{ n: number }>('select $1::int as n', [1])).rows).toEqual([{ n: 1 }]);
  });

  it('transaction-local settings end with the transaction', async () => {
    await query('select set_config($1, $2, true)', ['grantgate.probe', 'before']);
    await query('begin');
    await query('select set_config($1, $2, true)', ['grantgate.probe', 'inside']);
    const inside = await query<{ v: string }>(`select current_setting('grantgate.probe', true) as v`);
    await query('commit');
    const after = await query<{ v: string }>(`select current_setting('grantgate.probe', true) as v`);
    expect(inside.rows).toEqual([{ v: 'inside' }]);
    expect(after.rows[0]!.v).not.toBe('inside');
  });

  it('a statement that fails leaves the transaction failed, and rollback recovers it', async () => {
    await query('select 1 / $1::int as n', [1]);
    await query('begin');
    await expect(query('select 1 / $1::int as n', [0])).rejects.toThrow(/division by zero/);
    await expect(query('select 1')).rejects.toThrow(/current transaction is aborted/);
    await query('rollback');
    expect((await query<{ n: number }>('select 1 / $1::int as n', [1])).rows).toEqual([{ n: 1 }]);
  });
});
