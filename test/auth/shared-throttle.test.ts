import { afterAll, beforeAll, expect, it } from 'vitest';
import { LoginDocument } from '../../demo/northwind/__generated__/graphql.js';
import { startRedis } from '../helpers/redis-server.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let redis: Awaited<ReturnType<typeof startRedis>>;
let first: TestGateway;
let second: TestGateway;
beforeAll(async () => {
  redis = await startRedis();
  first = await startTestGateway({ auth: { redisUrl: redis.url } });
  second = await startTestGateway({ auth: { redisUrl: redis.url } });
});
afterAll(async () => {
  await first?.close();
  await second?.close();
  await redis?.stop();
});

const attempt = (gateway: TestGateway, password: string) =>
  gateway.execute(LoginDocument, { username: 'u1', password }, { authorization: null });

it('with REDIS_URL, instances share the login throttle: guesses on one count on the other', async () => {
  for (let i = 0; i < 5; i++) {
    expect((await attempt(first, `guess${i}`)).errors?.[0]?.message).toBe('Invalid username or password');
    expect((await attempt(second, `guess${i}`)).errors?.[0]?.message).toBe('Invalid username or password');
  }
  for (const gateway of [first, second]) {
    expect((await attempt(gateway, 'p')).errors?.[0]?.message).toMatch(/^Too many login attempts/);
  }
});

it('falls back to counting in memory when Redis goes away, rather than letting guesses through', async () => {
  await redis.stop();
  const results = [];
  for (let i = 0; i < 11; i++) results.push((await attempt(first, `later${i}`)).errors?.[0]?.message);
  expect(results.at(-1)).toMatch(/^Too many login attempts/);
});

it('starts without Redis when it does not answer in time, and counts in memory from the first attempt', async () => {
  // Redis was stopped by the test above.
  const late = await startTestGateway({ auth: { redisUrl: redis.url } });
  try {
    const results = [];
    for (let i = 0; i < 11; i++) results.push((await attempt(late, `cold${i}`)).errors?.[0]?.message);
    expect(results.slice(0, 10)).toEqual(Array(10).fill('Invalid username or password'));
    expect(results.at(-1)).toMatch(/^Too many login attempts/);
  } finally {
    await late.close();
  }
});
