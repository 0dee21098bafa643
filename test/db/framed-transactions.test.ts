import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparingClient } from '../../src/db/preparing-client.js';
import { SERVER_WORK_MEM } from '../../src/db/request-transaction.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { roundTrips } from '../helpers/round-trips.js';

/**
 * The pool's client sends a transaction's `begin` and settings with the statement that follows them,
 * and runs each statement of a read (`start transaction read only`) in a transaction of its own
 * behind the read's settings (src/db/preparing-client.ts). Whatever path a statement takes, it must
 * run with the settings, inside the transaction it was asked in, and leave nothing open after.
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

const probe = async () =>
  (await query<{ v: string | null }>(`select current_setting('grantgate.probe', true) as v`)).rows[0]!.v;
const probeBound = async () =>
  (await query<{ v: string | null }>(`select current_setting($1, true) as v`, ['grantgate.probe'])).rows[0]!
    .v;
const setProbe = (value: string) => query('select set_config($1, $2, true)', ['grantgate.probe', value]);

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

describe('a read: each statement in a read-only transaction of its own, behind the settings', () => {
  beforeAll(async () => {
    await query('create table written (a int)');
  });

  it('applies the settings to every statement, bound or not, and to nothing after', async () => {
    await query('start transaction read only');
    await setProbe('inside');
    expect(await probeBound()).toBe('inside');
    expect(await probe()).toBe('inside');
    expect(await probeBound()).toBe('inside');
    await query('commit');
    expect(await probe()).not.toBe('inside');
    expect(await survivesRollback('after_read')).toBe(true);
  });

  it('refuses to write, and leaves nothing written', async () => {
    await query('start transaction read only');
    await setProbe('inside');
    await expect(query('insert into written values ($1)', [1])).rejects.toThrow(/read-only transaction/);
    await expect(query('insert into written values (2)')).rejects.toThrow(/read-only transaction/);
    await query('rollback');
    expect((await query('select * from written')).rows).toEqual([]);
  });

  it('costs one round trip per statement, and none to begin, set or end', async () => {
    const read = async () => {
      await query('start transaction read only');
      await setProbe('counted');
      expect(await probeBound()).toBe('counted');
      expect(await probeBound()).toBe('counted');
      await query('commit');
    };
    await read(); // the frame's statements are parsed on the connection once
    expect(await roundTrips(client, read)).toBe(2);
  });

  it('replays later settings in order: a count’s work_mem and the request’s again, without a warning', async () => {
    // PostgreSQL's warnings come to the client as notices, and go to its log as well.
    const notices: string[] = [];
    const onNotice = (notice: { message?: string }) => void notices.push(notice.message ?? '');
    client.on('notice', onNotice);
    const workMem = async () =>
      (await query<{ w: string }>('select current_setting($1) as w', ['work_mem'])).rows[0]!.w;
    const server = await workMem();
    expect(server).not.toBe('64kB');
    await query('start transaction read only');
    await query('select set_config($1, $2, true)', ['work_mem', '64kB']);
    expect(await workMem()).toBe('64kB');
    await query(SERVER_WORK_MEM);
    expect(await workMem()).toBe(server);
    await query('select set_config($1, $2, true)', ['work_mem', '64kB']);
    expect(await workMem()).toBe('64kB');
    await query('commit');
    expect(await workMem()).toBe(server);
    client.off('notice', onNotice);
    expect(notices).toEqual([]);
  });

  it('statements asked at once behind a setting new to the connection all run', async () => {
    await query('start transaction read only');
    await query(`select set_config($1, $2, true) -- ${Date.now()}`, ['grantgate.probe', 'both']);
    expect(await Promise.all([probeBound(), probeBound(), probe()])).toEqual(['both', 'both', 'both']);
    await query('commit');
  });

  it('a statement waiting for the connection keeps the settings it was asked under', async () => {
    await query('start transaction read only');
    // A setting new to the connection: the first read waits behind the frame's parse while the
    // second's setting joins the read's frame.
    await query(`select set_config($1, $2, true) -- ${Date.now()}`, ['grantgate.probe', 'first']);
    const first = probeBound();
    const second = setProbe('second').then(probeBound);
    expect(await first).toBe('first');
    expect(await second).toBe('second');
    await query('commit');
  });

  it('a statement that fails leaves nothing open: the next one runs, and so does the next read', async () => {
    await query('start transaction read only');
    await setProbe('inside');
    await expect(query('select 1 / $1::int as n', [0])).rejects.toThrow(/division by zero/);
    expect(await probeBound()).toBe('inside');
    await query('rollback');
    expect(await survivesRollback('after_failed_read')).toBe(true);
  });

  it('a setting PostgreSQL refuses fails the statement it went with, and nothing after the read', async () => {
    await query('start transaction read only');
    await query('select set_config($1, $2, true)', ['work_mem', 'a great deal']);
    await expect(probeBound()).rejects.toThrow(/invalid value for parameter "work_mem"/);
    await query('rollback');
    expect((await query<{ n: number }>('select $1::int as n', [3])).rows).toEqual([{ n: 3 }]);
  });

  it('a read that never ended is replaced by the next transaction, its settings with it', async () => {
    await query('start transaction read only');
    await setProbe('abandoned');
    expect(await probeBound()).toBe('abandoned');
    await query('start transaction read only');
    expect(await probeBound()).not.toBe('abandoned');
    await query('begin');
    expect(await probeBound()).not.toBe('abandoned');
    await query('rollback');
  });

  it('ends only once its statements have: the connection is not handed on under one still running', async () => {
    await query('start transaction read only');
    const order: string[] = [];
    const slow = query('select pg_sleep($1::float)', [0.2]).then(() => order.push('statement'));
    await query('commit').then(() => order.push('commit'));
    await slow;
    expect(order).toEqual(['statement', 'commit']);
  });
});

describe('a transaction that writes: begin and settings go with its first statement', () => {
  it('costs one round trip to begin, set and run the first statement, then one per statement', async () => {
    const write = async () => {
      await query('begin');
      await setProbe('written');
      expect(await probeBound()).toBe('written');
      await query('insert into written values ($1)', [7]);
      await query('rollback');
    };
    await write();
    expect(await roundTrips(client, write)).toBe(3);
    expect((await query('select * from written')).rows).toEqual([]);
  });
});
