import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument } from '../../demo/northwind/__generated__/graphql.js';
import { LoginThrottle, MEMORY_KEYS_PER_LIMITER } from '../../src/auth/login-throttle.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { startRedis } from '../helpers/redis-server.js';
import { LDAP_SUFFIX, populateDirectory, type Slapd, startSlapd } from '../helpers/slapd.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

const anonymous = { authorization: null };
const THROTTLED = /^Too many login attempts; try again in \d+ s$/;

/** Starts `t` listening on a free loopback port; returns its `POST /api/auth/login` URL. */
const loginUrl = async (t: TestGateway) =>
  (await t.gateway.listen(0, '127.0.0.1')).replace(/\/graphql$/, '/api/auth/login');

/** `POST /api/auth/login` over real HTTP, optionally claiming a client address in X-Forwarded-For. */
async function restLogin(
  url: string,
  username: string,
  password: string,
  forwardedFor?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
    },
    body: JSON.stringify({ username, password }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('user names longer than 256 characters', () => {
  let t: TestGateway;
  let url: string;
  beforeAll(async () => {
    t = await startTestGateway();
    url = await loginUrl(t);
  });
  afterAll(() => t?.close());

  it('are refused over HTTP with a 400 naming the bound, and leave no throttle state', async () => {
    const before = t.auth.throttle.keysInMemory();
    expect(await restLogin(url, 'x'.repeat(257), 'p')).toEqual({
      status: 400,
      body: { error: 'username must be at most 256 characters long' },
    });
    // A megabyte does not get past the route's body limit (16 kB), let alone to the throttle.
    expect((await restLogin(url, 'x'.repeat(1_000_000), 'p')).status).toBe(413);
    expect(t.auth.throttle.keysInMemory()).toBe(before);

    // 256 characters is a user name like any other: refused as unknown, and counted (pair, account, address).
    expect(await restLogin(url, 'x'.repeat(256), 'p')).toEqual({
      status: 401,
      body: { error: 'Invalid username or password' },
    });
    expect(t.auth.throttle.keysInMemory()).toBe(before + 3);
  });

  it('are refused in GraphQL as BAD_USER_INPUT, a megabyte as well, before any throttle state', async () => {
    const before = t.auth.throttle.keysInMemory();
    for (const username of ['y'.repeat(257), 'y'.repeat(1_000_000)]) {
      const result = await t.execute(LoginDocument, { username, password: 'p' }, anonymous);
      expect(result.errors?.[0]).toMatchObject({
        message: 'username must be at most 256 characters long',
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    expect(t.auth.throttle.keysInMemory()).toBe(before);
  });
});

describe('with LDAP and the shared (Redis) throttle', () => {
  let slapd: Slapd;
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let redisClient: Redis;
  let t: TestGateway;
  let url: string;
  beforeAll(async () => {
    // Both awaited, and each kept once it runs, so that afterAll stops it even when the other failed
    // to start (a redis-server left running holds a port another process may be given).
    const [slapdStart, redisStart] = await Promise.allSettled([
      startSlapd({ logOperations: true }),
      startRedis(),
    ]);
    if (slapdStart.status === 'fulfilled') slapd = slapdStart.value;
    if (redisStart.status === 'fulfilled') redis = redisStart.value;
    for (const start of [slapdStart, redisStart]) if (start.status === 'rejected') throw start.reason;
    await populateDirectory(slapd.url, [
      { uid: 'alice', cn: 'Alice', password: 'correct horse', groups: ['tenant'] },
      { uid: 'bob', cn: 'Bob', password: 'battery staple', groups: [] },
    ]);
    redisClient = new Redis(redis.url);
    t = await startTestGateway({
      auth: { authProvider: 'ldap', redisUrl: redis.url },
      authEnv: {
        LDAP_URL: slapd.url,
        LDAP_USER_DN_TEMPLATE: `uid={username},ou=people,${LDAP_SUFFIX}`,
        LDAP_USER_FILTER: '(uid={username})',
        LDAP_GROUP_SEARCH_BASE: `ou=groups,${LDAP_SUFFIX}`,
      },
    });
    url = await loginUrl(t);
  });
  afterAll(async () => {
    await t?.close();
    redisClient?.disconnect();
    await redis?.stop();
    await slapd?.stop();
  });

  const throttleKeys = () => redisClient.keys('grantgate:login:*');
  /** slapd logs each operation as it receives it; the log reaches us through a pipe, so wait for it. */
  async function waitForLog(text: string) {
    for (let i = 0; i < 50 && !slapd.log().includes(text); i++) await new Promise((r) => setTimeout(r, 50));
    return slapd.log().includes(text);
  }

  it('refuses a long user name without binding to the directory or writing to Redis', async () => {
    const keysBefore = await throttleKeys();
    const result = await t.execute(LoginDocument, { username: 'q'.repeat(257), password: 'p' }, anonymous);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await restLogin(url, 'q'.repeat(300), 'p')).toMatchObject({ status: 400 });
    expect(await throttleKeys()).toEqual(keysBefore);

    // 256 characters do reach the directory (a BIND at their DN) and Redis: the log and the keys
    // would show the longer ones too, had they got that far.
    const atBound = 'r'.repeat(256);
    expect(
      (await t.execute(LoginDocument, { username: atBound, password: 'p' }, anonymous)).errors?.[0]?.message,
    ).toBe('Invalid username or password');
    expect(await waitForLog(`BIND dn="uid=${atBound}`)).toBe(true);
    expect(slapd.log()).not.toContain('q'.repeat(257));
    expect(await throttleKeys()).toContain(`grantgate:login:account:${atBound}`);
  });

  it('counts alice, ALICE and "alice  " as one account: ten guesses in all, then the right password is refused', async () => {
    const spellings = ['alice', 'ALICE', 'alice  ', ' Alice'];
    for (let i = 0; i < 10; i++) {
      const result = await t.execute(
        LoginDocument,
        { username: spellings[i % spellings.length]!, password: `guess${i}` },
        anonymous,
      );
      expect(result.errors?.[0]?.message).toBe('Invalid username or password');
    }
    const right = await t.execute(LoginDocument, { username: 'alice', password: 'correct horse' }, anonymous);
    expect(right.errors?.[0]?.message).toMatch(THROTTLED);
    // One count per bound, under the directory's spelling, in Redis where every instance sees it.
    expect(await redisClient.get('grantgate:login:account:alice')).toBe('10');
    expect(await redisClient.get('grantgate:login:account-address:127.0.0.1 alice')).toBe('11');
    // Another account from the same address is not affected.
    const bob = await t.execute(LoginDocument, { username: 'bob', password: 'battery staple' }, anonymous);
    expect(bob.data?.login.user.id).toBe('bob');
  });

  // Built around bob, whose budget has room for the few that normalise to `bob` (alice's is spent above).
  it.each([
    "bob$'",
    'bob$&',
    '*',
    'bob)(uid=*',
    '(',
    ')',
    'bob\\',
    'bob\0',
    'bob,ou=people',
    'bob+cn=Bob',
    'uid=bob',
    'böb',
  ])('answers %j like any wrong user name: 401, not a 500, and no one is logged in', async (username) => {
    expect(await restLogin(url, username, 'battery staple')).toEqual({
      status: 401,
      body: { error: 'Invalid username or password' },
    });
  });
});

describe('client addresses with TRUST_PROXY=loopback (a proxy on this host sets X-Forwarded-For)', () => {
  let t: TestGateway;
  let url: string;
  beforeAll(async () => {
    t = await startTestGateway({ settings: { ...DEFAULT_GATEWAY_SETTINGS, trustProxy: 'loopback' } });
    url = await loginUrl(t);
  });
  afterAll(() => t?.close());

  it('locks a guesser out at its address while the real user logs in from another', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await restLogin(url, 'u1', `guess${i}`, '203.0.113.7')).status).toBe(401);
    }
    const locked = await restLogin(url, 'u1', 'p', '203.0.113.7');
    expect(locked.status).toBe(429);
    expect(locked.body.error).toMatch(THROTTLED);
    // The guesser keeps hammering; refused attempts do not use up the account's wider budget.
    for (let i = 0; i < 40; i++)
      expect((await restLogin(url, 'u1', `more${i}`, '203.0.113.7')).status).toBe(429);

    const real = await restLogin(url, 'u1', 'p', '198.51.100.20');
    expect(real.status).toBe(200);
    expect(real.body.access_token).toEqual(expect.any(String));
  });

  it('counts a guesser rotating X-Forwarded-For per claimed address, and stops it at 50 guesses per account', async () => {
    // Each claimed address has ten guesses of its own (the proxy is trusted to say who is calling)…
    for (let address = 1; address <= 5; address++) {
      for (let i = 0; i < 10; i++) {
        expect((await restLogin(url, 'u2', `guess${i}`, `203.0.113.${address}`)).status).toBe(401);
      }
      expect((await restLogin(url, 'u2', 'p', `203.0.113.${address}`)).status).toBe(429);
    }
    // …and after 50 in all the account is throttled from every address, the real user's too: the
    // price of a bound that a guesser with many addresses cannot get around.
    expect((await restLogin(url, 'u2', 'p', '198.51.100.21')).status).toBe(429);
    // Other accounts are not affected.
    expect((await restLogin(url, 's1', 'p', '198.51.100.21')).status).toBe(200);
  });
});

describe('client addresses without TRUST_PROXY', () => {
  let t: TestGateway;
  let url: string;
  beforeAll(async () => {
    t = await startTestGateway();
    url = await loginUrl(t);
  });
  afterAll(() => t?.close());

  it('ignores X-Forwarded-For: rotating it buys no fresh guesses', async () => {
    for (let i = 0; i < 10; i++) {
      expect((await restLogin(url, 'u1', `guess${i}`, `203.0.113.${i + 1}`)).status).toBe(401);
    }
    expect((await restLogin(url, 'u1', 'p', '198.51.100.20')).status).toBe(429);
    expect((await restLogin(url, 'u1', 'p')).status).toBe(429);
  });
});

describe('the in-memory throttle', () => {
  it('holds at most its bound of keys however many distinct names and addresses arrive', async () => {
    const throttle = await LoginThrottle.create(undefined, pino({ level: 'silent' }));
    const attempts = MEMORY_KEYS_PER_LIMITER + 5_000;
    for (let i = 0; i < attempts; i++)
      await throttle.attempt(`user${i}`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    expect(throttle.keysInMemory()).toBe(3 * MEMORY_KEYS_PER_LIMITER);

    // Still counting: the recently used keys are the ones kept.
    for (let i = 0; i < 10; i++) await throttle.attempt('hot', '192.0.2.1');
    await expect(throttle.attempt('hot', '192.0.2.1')).rejects.toThrow(THROTTLED);
    await throttle.close();
  });

  it('adds no keys for an address over its bound, whatever names it sprays', async () => {
    const throttle = await LoginThrottle.create(undefined, pino({ level: 'silent' }));
    const refused = [];
    for (let i = 0; i < 300; i++) {
      refused.push(
        await throttle.attempt(`spray${i}`, '192.0.2.9').then(
          () => false,
          () => true,
        ),
      );
    }
    expect(refused.filter(Boolean)).toHaveLength(200);
    // One address key, and a pair and an account key for each of the 100 attempts it was allowed.
    expect(throttle.keysInMemory()).toBe(1 + 100 + 100);
    await throttle.close();
  });
});
