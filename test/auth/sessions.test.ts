import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LoginDocument,
  LogoutDocument,
  MeAndCustomerCountDocument,
  MeDocument,
  RefreshTokenDocument,
} from '../../demo/northwind/__generated__/graphql.js';
import { UserStore } from '../../auth-providers/sql/user-store.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
let users: UserStore;
beforeAll(async () => {
  t = await startTestGateway();
  users = new UserStore(t.db.url);
});
afterAll(async () => {
  await users?.close();
  await t?.close();
});

const anonymous = { authorization: null };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function login(username: string, password = 'p') {
  const result = await t.execute(LoginDocument, { username, password }, anonymous);
  return result;
}

describe('login', () => {
  it('returns tokens and the user, whose token then answers me and data queries', async () => {
    const result = await login('s1');
    expect(result.errors).toBeUndefined();
    const payload = result.data!.login;
    expect(payload).toMatchObject({
      tokenType: 'Bearer',
      expiresIn: 900,
      user: {
        id: 's1',
        name: 'Sales One',
        roles: ['sales'],
        attributes: { clientId: 2, region: 'British Isles' },
      },
    });
    expect(payload.accessToken.split('.')).toHaveLength(3);
    expect(payload.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const me = await t.execute(MeAndCustomerCountDocument, {}, bearer(payload.accessToken));
    // What s1 may see of the customers (SPEC §5), counted by SQL.
    const { rows } = await t.db.sql.query(`select count(*)::int as n from customer where client_id = 2
      and region = 'British Isles' and (credit_limit > 300 or contact_name = 'Mike')`);
    expect(me.data).toEqual({ me: { id: 's1' }, customersCount: rows[0].n });
  });

  it('treats a user without roles as having none (public comes with authorization)', async () => {
    expect((await login('p1')).data!.login.user).toMatchObject({
      id: 'p1',
      roles: [],
      attributes: { clientId: 2 },
    });
  });

  it('answers an unknown user and a wrong password identically', async () => {
    const unknown = await login('nobody', 'p');
    const wrong = await login('s1', 'wrong');
    expect(unknown.errors).toEqual(wrong.errors);
    expect(unknown.errors?.[0]).toMatchObject({
      message: 'Invalid username or password',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(unknown.data).toBeNull();
  });

  it('refuses an over-long password before hashing it', async () => {
    const started = performance.now();
    const result = await login('s1', 'x'.repeat(257));
    expect(result.errors?.[0]).toMatchObject({
      message: 'password must be at most 256 characters long',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('works with a garbage Authorization header: login is public', async () => {
    const result = await t.execute(
      LoginDocument,
      { username: 'u1', password: 'p' },
      { authorization: 'Bearer garbage' },
    );
    expect(result.data?.login.user.id).toBe('u1');
  });

  it('refuses a disabled user', async () => {
    await users.addUser({ id: 'gone', roles: ['tenant'], attributes: {}, password: 'p' });
    await users.setDisabled('gone', true);
    expect((await login('gone')).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('re-hashes a password stored with older argon2 parameters on the next login', async () => {
    const { hash } = await import('@node-rs/argon2');
    await users.addUser({ id: 'legacy', roles: [], attributes: {}, password: 'p' });
    const weak = await hash('p', { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 });
    await t.db.sql.query(`update auth."user" set password_hash = $1 where id = 'legacy'`, [weak]);
    expect((await login('legacy')).errors).toBeUndefined();
    const { rows } = await t.db.sql.query(`select password_hash from auth."user" where id = 'legacy'`);
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect((await login('legacy')).errors).toBeUndefined();
  });
});

describe('me', () => {
  it('answers who the token speaks for, and is UNAUTHENTICATED without a valid one', async () => {
    const { accessToken } = (await login('r1')).data!.login;
    expect((await t.execute(MeDocument, {}, bearer(accessToken))).data?.me).toEqual({
      id: 'r1',
      name: 'Renter One',
      roles: ['renter'],
      attributes: { clientId: 1, region: 'Central America' },
    });
    for (const caller of [anonymous, { authorization: 'Bearer not.a.token' }]) {
      expect((await t.execute(MeDocument, {}, caller)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });
});

describe('refresh tokens', () => {
  it('rotate: each returns a new pair and works once; replaying a used one revokes the family', async () => {
    const first = (await login('aneu')).data!.login;
    const second = await t.execute(RefreshTokenDocument, { refreshToken: first.refreshToken }, anonymous);
    expect(second.errors).toBeUndefined();
    const pair = second.data!.refreshToken;
    expect(pair.refreshToken).not.toBe(first.refreshToken);
    expect(pair.accessToken).not.toBe(first.accessToken);
    expect(pair.user).toMatchObject({ id: 'aneu', roles: ['tenant'] });

    // The stolen first token is replayed: refused, and the legitimate successor dies with it.
    const replay = await t.execute(RefreshTokenDocument, { refreshToken: first.refreshToken }, anonymous);
    expect(replay.errors?.[0]).toMatchObject({
      message: 'Invalid or expired refresh token',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    const successor = await t.execute(RefreshTokenDocument, { refreshToken: pair.refreshToken }, anonymous);
    expect(successor.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('are stored only as hashes', async () => {
    const { refreshToken } = (await login('u1')).data!.login;
    const { rows } = await t.db.sql.query('select token_hash from auth.refresh_token');
    expect(rows.some((row) => row.token_hash === refreshToken)).toBe(false);
    expect(rows.length).toBeGreaterThan(0);
  });

  it('re-read roles and attributes from the provider', async () => {
    await users.addUser({ id: 'promoted', roles: ['sales'], attributes: { clientId: 1 }, password: 'p' });
    const { refreshToken } = (await login('promoted')).data!.login;
    await users.grant('promoted', ['manager']);
    await t.db.sql.query(
      `update auth.user_attribute set value = '3' where user_id = 'promoted' and name = 'clientId'`,
    );
    const refreshed = await t.execute(RefreshTokenDocument, { refreshToken }, anonymous);
    expect(refreshed.data!.refreshToken.user).toMatchObject({
      roles: ['manager', 'sales'],
      attributes: { clientId: 3 },
    });
  });

  it('stop working for a disabled user', async () => {
    await users.addUser({ id: 'leaver', roles: ['tenant'], attributes: {}, password: 'p' });
    const { refreshToken } = (await login('leaver')).data!.login;
    await users.setDisabled('leaver', true);
    const refreshed = await t.execute(RefreshTokenDocument, { refreshToken }, anonymous);
    expect(refreshed.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('logout revokes the caller’s family, and only the caller’s', async () => {
    const { refreshToken } = (await login('u2')).data!.login;
    const rotated = (await t.execute(RefreshTokenDocument, { refreshToken }, anonymous)).data!.refreshToken;
    const other = (await login('sam')).data!.login;
    const asU2 = bearer(rotated.accessToken);
    // Someone else's refresh token is not the caller's to revoke.
    expect((await t.execute(LogoutDocument, { refreshToken: other.refreshToken }, asU2)).data).toEqual({
      logout: false,
    });
    expect((await t.execute(LogoutDocument, { refreshToken: rotated.refreshToken }, asU2)).data).toEqual({
      logout: true,
    });
    const after = await t.execute(RefreshTokenDocument, { refreshToken: rotated.refreshToken }, anonymous);
    expect(after.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const othersStillWork = await t.execute(
      RefreshTokenDocument,
      { refreshToken: other.refreshToken },
      anonymous,
    );
    expect(othersStillWork.errors).toBeUndefined();
    const withoutToken = await t.execute(LogoutDocument, { refreshToken: 'anything' }, anonymous);
    expect(withoutToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuse garbage', async () => {
    const result = await t.execute(RefreshTokenDocument, { refreshToken: 'garbage' }, anonymous);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('login throttle', () => {
  it('allows 10 attempts per account, then refuses even the right password, with a retry time', async () => {
    await users.addUser({ id: 'target', roles: [], attributes: {}, password: 'right' });
    for (let i = 0; i < 10; i++) {
      expect((await login('target', `guess${i}`)).errors?.[0]?.message).toBe('Invalid username or password');
    }
    const right = await login('target', 'right');
    expect(right.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/^Too many login attempts; try again in \d+ s$/),
      extensions: { code: 'UNAUTHENTICATED', retryAfterSeconds: expect.any(Number) },
    });
    // The SQL provider finds users by exact id: TARGET is another (unknown) account with a budget of
    // its own, and guessing under it leaves target's count alone. (LDAP's normalisation: login-abuse.)
    expect((await login('TARGET', 'right')).errors?.[0]?.message).toBe('Invalid username or password');
    expect((await login('target', 'right')).errors?.[0]?.message).toMatch(/^Too many login attempts/);
  });

  it('counts every login field of a document: aliases cannot multiply guesses', async () => {
    await users.addUser({ id: 'aliased', roles: [], attributes: {}, password: 'right' });
    const aliases = (from: number) =>
      Array.from(
        { length: 4 },
        (_, i) => `a${i}: login(username: "aliased", password: "right${from + i}") { accessToken }`,
      );
    // Mutations run in order and the first failure ends the document, so each document spends one guess.
    for (let round = 0; round < 10; round++) {
      const result = await t.execute(
        parse(`mutation { ${aliases(round * 4).join(' ')} }`) as never,
        {},
        anonymous,
      );
      expect(result.errors).toHaveLength(1);
    }
    expect((await login('aliased', 'right')).errors?.[0]?.message).toMatch(/^Too many login attempts/);
  });

  it('a successful login clears the account’s count', async () => {
    await users.addUser({ id: 'forgetful', roles: [], attributes: {}, password: 'right' });
    for (let i = 0; i < 9; i++) await login('forgetful', 'wrong');
    expect((await login('forgetful', 'right')).errors).toBeUndefined();
    for (let i = 0; i < 9; i++) await login('forgetful', 'wrong');
    expect((await login('forgetful', 'right')).errors).toBeUndefined();
  });
});
