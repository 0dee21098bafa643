import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, RefreshTokenDocument } from '../../demo/northwind/__generated__/graphql.js';
import { REFRESH_TOKEN_MIGRATIONS, RefreshTokenStore } from '../../src/auth/refresh-token-store.js';
import { applySqlMigrations } from '../../postgres/sql-migrations.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const ROOT = resolve(import.meta.dirname, '../..');
const anonymous = { authorization: null };
const HOUR = 3600;

async function login(t: TestGateway, username: string, password = 'p') {
  const result = await t.execute(LoginDocument, { username, password }, anonymous);
  if (!result.data) throw new Error(`login as ${username} failed: ${JSON.stringify(result.errors)}`);
  return result.data.login.refreshToken;
}

/** The next refresh token, or the error's message when the refresh is refused. */
async function refresh(t: TestGateway, refreshToken: string): Promise<{ token?: string; error?: string }> {
  const result = await t.execute(RefreshTokenDocument, { refreshToken }, anonymous);
  return result.data
    ? { token: result.data.refreshToken.refreshToken }
    : { error: `${result.errors?.[0]?.extensions?.code}: ${result.errors?.[0]?.message}` };
}

const REFUSED = 'UNAUTHENTICATED: Invalid or expired refresh token';
const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Every token of the family `token` belongs to: its login time and whether it is revoked. */
async function familyOf(db: pg.Client | pg.Pool, token: string) {
  const { rows } = await db.query(
    `select family_login_at::text as login_at, revoked_at is not null as revoked
     from auth.refresh_token
     where family_id = (select family_id from auth.refresh_token where token_hash = $1)
     order by created_at`,
    [hashOf(token)],
  );
  return rows as { login_at: string; revoked: boolean }[];
}

describe('REFRESH_TOKEN_MAX_AGE', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ auth: { refreshTokenMaxAgeSeconds: HOUR } });
  });
  afterAll(() => t?.close());

  it('ends a family an age after its login, however often it was rotated, and ends it for good', async () => {
    let token = await login(t, 'u1');
    for (let i = 0; i < 3; i++) token = (await refresh(t, token)).token!;
    const family = await familyOf(t.db.sql, token);
    expect(family).toHaveLength(4);
    // Each rotation carries the login time on, to the microsecond.
    expect(new Set(family.map((row) => row.login_at)).size).toBe(1);

    // The login was an hour and a second ago.
    await t.db.sql.query(
      `update auth.refresh_token set family_login_at = family_login_at - make_interval(secs => $2)
       where family_id = (select family_id from auth.refresh_token where token_hash = $1)`,
      [hashOf(token), HOUR + 1],
    );
    expect(await refresh(t, token)).toEqual({ error: REFUSED });
    expect((await familyOf(t.db.sql, token)).every((row) => row.revoked)).toBe(true);

    // A new login starts a new family, with a full age ahead.
    const next = await login(t, 'u1');
    expect((await refresh(t, next)).token).toEqual(expect.any(String));
  });

  it('counts in real time: a family of a 2 s age refreshed every 0.4 s ends 2 s after its login', async () => {
    const short = await startTestGateway({ auth: { refreshTokenMaxAgeSeconds: 2 } });
    try {
      const started = Date.now();
      let token = await login(short, 's1');
      while (Date.now() - started < 1200) {
        await new Promise((resolve) => setTimeout(resolve, 400));
        const rotated = await refresh(short, token);
        expect(rotated.token).toEqual(expect.any(String));
        token = rotated.token!;
      }
      await new Promise((resolve) => setTimeout(resolve, 2500 - (Date.now() - started)));
      expect(await refresh(short, token)).toEqual({ error: REFUSED });
    } finally {
      await short.close();
    }
  });
});

describe('upgrading a database an older gateway left', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('dates each existing family from its oldest token, and holds it to the age from then', async () => {
    // The refresh-token table as the first migration made it, with two families in use.
    await applySqlMigrations(pool, 'auth', REFRESH_TOKEN_MIGRATIONS.slice(0, 1));
    const user = { id: 'u1', name: null, roles: [], attributes: {} };
    const insert = async (familyId: string, daysAgo: number, used: boolean) => {
      const token = randomBytes(32).toString('base64url');
      await pool.query(
        `insert into auth.refresh_token (token_hash, family_id, user_id, user_snapshot, expires_at, used_at, created_at)
         values ($1, $2, 'u1', $3, now() + interval '7 days', $4, now() - make_interval(days => $5))`,
        [hashOf(token), familyId, JSON.stringify(user), used ? new Date() : null, daysAgo],
      );
      return token;
    };
    const [old, recent] = [randomUUID(), randomUUID()];
    await insert(old, 40, true);
    const oldToken = await insert(old, 1, false);
    const recentToken = await insert(recent, 2, false);

    const store = new RefreshTokenStore(pool, 7 * 86400, 30 * 86400);
    await store.migrate();
    const { rows } = await pool.query(
      `select family_id, bool_and(family_login_at = (select min(created_at) from auth.refresh_token o
         where o.family_id = t.family_id)) as from_oldest
       from auth.refresh_token t group by family_id`,
    );
    expect(rows).toHaveLength(2);
    expect(rows.every((row) => row.from_oldest)).toBe(true);

    // The family logged in 40 days ago is past a 30-day age although its last token is a day old.
    const reload = async () => user;
    expect(await store.rotate(oldToken, reload)).toEqual({ outcome: 'invalid' });
    expect((await familyOf(pool, oldToken)).every((row) => row.revoked)).toBe(true);
    expect(await store.rotate(recentToken, reload)).toMatchObject({ outcome: 'rotated' });
  });
});

describe('npm run auth changes that end a user’s sessions (sql provider)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t?.close());

  /** `npm run auth -- …` as an operator types it, against the gateway's database. */
  async function auth(...args: string[]) {
    // The gateway's own database only: no AUTH_DATABASE_URL or MIGRATION_DATABASE_URL of the shell.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !/^(AUTH|MIGRATION)_DATABASE_URL$/.test(name)),
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        '--tsconfig',
        join(ROOT, 'tsconfig.json'),
        join(ROOT, 'src/tools/cli/auth-users.ts'),
        ...args,
      ],
      { env: { ...env, DATABASE_URL: t.db.url } },
    );
    return stdout.trim();
  }

  it('refuses the token a refresh issued while the user’s families were being ended', async () => {
    // The CLI's update revokes the tokens it sees; a refresh committing at that moment adds one it
    // did not see. The family has a revoked token, so it has ended, and the newcomer is refused too.
    const first = await login(t, 'ALFKI');
    const raced = (await refresh(t, first)).token!;
    await t.db.sql.query('update auth.refresh_token set revoked_at = now() where token_hash = $1', [
      hashOf(first),
    ]);
    expect(await refresh(t, raced)).toEqual({ error: REFUSED });
  });

  it.each([
    ['set-password', 'aneu', ['--password', 'new secret']],
    ['disable', 'r1', []],
    ['grant', 'sam', ['--roles', 'auditor']],
    ['revoke', 'u2', ['--roles', 'manager']],
  ])('user %s ends every family of that user, and no other', async (verb, username, options) => {
    const sessions = [await login(t, username), await login(t, username)];
    sessions[1] = (await refresh(t, sessions[1]!)).token!;
    const bystander = await login(t, 's1');

    expect(await auth('user', verb, username, ...options)).toMatch(
      new RegExp(`\\nended the sessions of ${username}$`),
    );
    // Recorded at once, not on the next refresh.
    const { rows } = await t.db.sql.query(
      `select count(*)::int as open from auth.refresh_token where user_id = $1 and revoked_at is null`,
      [username],
    );
    expect(rows[0].open).toBe(0);
    for (const token of sessions) expect(await refresh(t, token)).toEqual({ error: REFUSED });
    expect((await refresh(t, bystander)).token).toEqual(expect.any(String));
    if (verb === 'set-password') {
      // Logging in with the new password starts a session that works.
      expect((await refresh(t, await login(t, username, 'new secret'))).token).toEqual(expect.any(String));
    }
  });
});
