import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayProcess,
  LOGIN,
  loginAs,
  postGraphQL,
  startGatewayProcess,
} from '../helpers/gateway-process.js';
import { startRedis } from '../helpers/redis-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/** Two instances behind an imagined load balancer: one database, one Redis, different ports. */
let db: TestDatabase;
let redis: Awaited<ReturnType<typeof startRedis>>;
let instances: GatewayProcess[];
let a: string;
let b: string;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = await startRedis();
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    JWT_SECRET: 'one secret shared by every instance!!',
  };
  instances = [startGatewayProcess(env), startGatewayProcess(env)];
  [a, b] = (await Promise.all(instances.map((instance) => instance.url))) as [string, string];
}, 60_000);

afterAll(async () => {
  await Promise.all(instances?.map((instance) => instance.stop()) ?? []);
  await redis?.stop();
  await db?.drop();
});

const REFRESH =
  'mutation Refresh($token: String!) { refreshToken(refreshToken: $token) { accessToken refreshToken } }';
const LOGOUT = 'mutation Logout($token: String!) { logout(refreshToken: $token) }';

describe('two instances on one database and one Redis', () => {
  it('listen on different ports', () => {
    expect(new URL(a).port).not.toBe(new URL(b).port);
  });

  it('accept each other’s tokens: log in on one, query and refresh on the other', async () => {
    const login = await loginAs(a, 's1');
    const onB = await postGraphQL(b, '{ me { id } customersCount }', { token: login.accessToken });
    expect(onB.errors).toBeUndefined();
    expect(onB.data).toMatchObject({ me: { id: 's1' } });

    const refreshed = await postGraphQL(b, REFRESH, { variables: { token: login.refreshToken } });
    expect(refreshed.errors).toBeUndefined();
    const rotated = refreshed.data!.refreshToken as { accessToken: string; refreshToken: string };
    expect((await postGraphQL(a, '{ me { id } }', { token: rotated.accessToken })).data).toEqual({
      me: { id: 's1' },
    });

    // The family lives in PostgreSQL: replaying the used token on the first instance is caught there
    // and revokes the family, so the rotated token no longer works on the second.
    const replay = await postGraphQL(a, REFRESH, { variables: { token: login.refreshToken } });
    expect(replay.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const afterReplay = await postGraphQL(b, REFRESH, { variables: { token: rotated.refreshToken } });
    expect(afterReplay.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('honour a logout made on the other instance', async () => {
    const login = await loginAs(b, 'u1');
    const logout = await postGraphQL(a, LOGOUT, {
      variables: { token: login.refreshToken },
      token: login.accessToken,
    });
    expect(logout.errors).toBeUndefined();
    const refresh = await postGraphQL(b, REFRESH, { variables: { token: login.refreshToken } });
    expect(refresh.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('share the login throttle through Redis: guesses on one count on the other', async () => {
    const guess = (url: string, password: string) =>
      postGraphQL(url, LOGIN, { variables: { username: 'u2', password } });
    for (let i = 0; i < 5; i++) {
      expect((await guess(a, `a${i}`)).errors?.[0]?.message).toBe('Invalid username or password');
      expect((await guess(b, `b${i}`)).errors?.[0]?.message).toBe('Invalid username or password');
    }
    // Ten failures in all, five per instance: both refuse now, even the right password.
    for (const url of [a, b]) {
      expect((await guess(url, 'p')).errors?.[0]?.message).toMatch(/^Too many login attempts/);
    }
  });
});
