import { afterAll, beforeAll, expect, it } from 'vitest';
import { LoginDocument } from '../../demo/northwind/__generated__/graphql.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

it('throttles one client address after 100 attempts, whatever the accounts', async () => {
  for (let i = 0; i < 100; i++) {
    const result = await t.execute(
      LoginDocument,
      { username: `spray${i}`, password: 'p' },
      { authorization: null },
    );
    expect(result.errors?.[0]?.message).toBe('Invalid username or password');
  }
  // A real user from the same address is refused now too.
  const result = await t.execute(LoginDocument, { username: 's1', password: 'p' }, { authorization: null });
  expect(result.errors?.[0]?.message).toMatch(/^Too many login attempts; try again in \d+ s$/);
});
