import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { databaseUrl } from './database-url.js';

export interface TestDatabase {
  url: string;
  /** A plain pg client on the test database, for assertions that must not go through the gateway. */
  sql: pg.Client;
  drop(): Promise<void>;
}

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('serverUrl') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A private copy of the seeded template database; `empty: true` gives a database with nothing in it. */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `${inject('runPrefix')}_${randomBytes(4).toString('hex')}`;
  await onServer((client) =>
    client.query(
      options.empty
        ? `create database "${name}"`
        : `create database "${name}" template "${inject('templateDatabase')}"`,
    ),
  );
  const url = databaseUrl(inject('serverUrl'), name);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  let dropped: Promise<void> | undefined;
  return {
    url,
    sql,
    drop: () =>
      (dropped ??= (async () => {
        await sql.end();
        await onServer((client) => client.query(`drop database if exists "${name}" with (force)`));
      })()),
  };
}
