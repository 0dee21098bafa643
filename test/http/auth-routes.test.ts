import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuth } from '../../src/auth/create-auth.js';
import northwind from '../../demo/northwind/index.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { startTestGateway, TEST_AUTH_CONFIG, type TestGateway } from '../helpers/test-gateway.js';
import { pino } from 'pino';

let t: TestGateway;
let base: string;
beforeAll(async () => {
  t = await startTestGateway();
  base = (await t.gateway.listen(0, '127.0.0.1')).replace(/\/graphql$/, '');
});
afterAll(() => t?.close());

const postLogin = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('POST /api/auth/login (API Logic Server compatible)', () => {
  it('answers {"access_token"} for the right password, and the token works on /graphql', async () => {
    const response = await postLogin({ username: 's1', password: 'p' });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    const me = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${body.access_token}` },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(await me.json()).toEqual({ data: { me: { id: 's1' } } });
  });

  it.each([
    [{ username: 's1', password: 'wrong' }, 401],
    [{ username: 'nobody', password: 'p' }, 401],
    [{ username: 's1' }, 400],
    [{ username: 's1', password: 42 }, 400],
    [{ username: 's1', password: 'x'.repeat(300) }, 400],
  ])('answers %o with %i and no token', async (body, status) => {
    const response = await postLogin(body);
    expect(response.status).toBe(status);
    expect(await response.json()).not.toHaveProperty('access_token');
  });

  it('answers 429 with Retry-After once an account is throttled', async () => {
    for (let i = 0; i < 10; i++)
      expect((await postLogin({ username: 'aneu', password: `guess${i}` })).status).toBe(401);
    const response = await postLogin({ username: 'aneu', password: 'p' });
    expect(response.status).toBe(429);
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('demo users', () => {
  it('are never created in production', async () => {
    const db = await createTestDatabase({ empty: true });
    try {
      const auth = await createAuth({
        config: { ...TEST_AUTH_CONFIG, nodeEnv: 'production' },
        databaseUrl: db.url,
        dataDir: '/nonexistent',
        log: pino({ level: 'silent' }),
        demoUsers: northwind.demoUsers,
      });
      await auth.close();
      const { rows } = await db.sql.query('select count(*)::int as n from auth."user"');
      expect(rows[0].n).toBe(0);
    } finally {
      await db.drop();
    }
  });
});
