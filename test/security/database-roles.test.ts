import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs, postGraphQL, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** DATABASE_URL as an application role, MIGRATION_DATABASE_URL as the owner: the first way of README's two. */
const appRole = `grantgate_test_app_${randomBytes(3).toString('hex')}`;
const password = randomBytes(12).toString('hex');
let db: TestDatabase;

function asRole(url: string, role: string, secret: string): string {
  const parsed = new URL(url);
  parsed.username = role;
  parsed.password = secret;
  return parsed.toString();
}

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  await db.sql.query(`create role ${appRole} login password '${password}'`);
});
afterAll(async () => {
  await db?.drop();
  await db?.sql.query(`drop role if exists ${appRole}`).catch(() => {});
});

describe('DATABASE_URL as the application role, MIGRATION_DATABASE_URL as the owner', () => {
  it('migrates and seeds as the owner and serves each user only their rows as the application role', async () => {
    const gateway = startGatewayProcess({
      DATABASE_URL: asRole(db.url, appRole, password),
      MIGRATION_DATABASE_URL: db.url,
    });
    try {
      const url = await gateway.url;
      const { accessToken } = await loginAs(url, 'u1');
      const result = await postGraphQL(url, '{ customers(limit: 1000) { clientId } customersCount }', {
        token: accessToken,
      });
      expect(result.errors).toBeUndefined();
      const rows = (result.data as { customers: { clientId: number }[] }).customers;
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows.map((row) => row.clientId))).toEqual(new Set([1]));
      // The gateway's connections really are the application role's.
      const { rows: sessions } = await db.sql.query(
        'select count(*)::int as n from pg_stat_activity where datname = current_database() and usename = $1',
        [appRole],
      );
      expect(sessions[0].n).toBeGreaterThan(0);
      // The application role owns nothing.
      const { rows: owned } = await db.sql.query(
        'select count(*)::int as n from pg_tables where tableowner = $1',
        [appRole],
      );
      expect(owned[0].n).toBe(0);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  }, 60_000);

  it('refuses to start, in one line, when DATABASE_URL is a role that would bypass the policies', async () => {
    const gateway = startGatewayProcess({
      DATABASE_URL: db.url,
      MIGRATION_DATABASE_URL: db.url,
      SEED: 'none',
    });
    expect(await gateway.exited).toBe(1);
    const fatal = gateway
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: unknown })
      .filter((line) => line.level === 60);
    expect(fatal).toEqual([
      {
        level: 60,
        time: expect.any(Number),
        msg: expect.stringMatching(
          /^could not start: DATABASE_URL's role "\w+" is a superuser, so PostgreSQL would not apply row-level security to it: /,
        ),
      },
    ]);
  }, 60_000);
});
