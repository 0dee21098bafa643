import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_SESSION_TYPE, consoleSessionAudience } from '../../src/auth/token-service.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { CONSOLE_COOKIE } from '../../src/http/pages/console-session.js';
import { startTestGateway, TEST_AUTH_CONFIG, type TestGateway } from '../helpers/test-gateway.js';

/**
 * The security console in production over real HTTP, as an attacker would try it (SPEC §8, "the
 * console costs no one else a login"): the superuser signs in once with a form from the console's own
 * page and is then known by a signed session cookie; views spend no login budget, failed sign-ins are
 * throttled like logins, and no forged, expired or borrowed cookie, nor a form from another site, gets
 * in. TRUST_PROXY=loopback lets each test claim client addresses of its own in X-Forwarded-For.
 */
let t: TestGateway;
let origin: string;
beforeAll(async () => {
  t = await startTestGateway({
    settings: { ...DEFAULT_GATEWAY_SETTINGS, production: true, introspection: false, trustProxy: 'loopback' },
  });
  origin = new URL(await t.gateway.listen(0, '127.0.0.1')).origin;
});
afterAll(() => t?.close());

const THROTTLED = /Too many login attempts; try again in \d+ s/;
const from = (address?: string): Record<string, string> => (address ? { 'x-forwarded-for': address } : {});

/** Headers without those given as '' (undici's fetch sends neither Origin nor Sec-Fetch-Site itself). */
const present = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== ''));

/**
 * The sign-in form posted as a browser on the console's own page posts it (Origin and Sec-Fetch-Site),
 * unless `headers` say otherwise ('' leaves a header out).
 */
function signIn(username: string, password: string, headers: Record<string, string> = {}, view = {}) {
  return fetch(`${origin}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: present({ origin, 'sec-fetch-site': 'same-origin', ...headers }),
    body: new URLSearchParams({ username, password, ...view }),
  });
}

/** `name=value` of the console's cookie in a response's Set-Cookie, as a browser would send it back. */
function sessionCookie(response: Response): string {
  const set = response.headers.getSetCookie().find((c) => c.startsWith(`${CONSOLE_COOKIE}=`));
  if (!set) throw new Error(`no console cookie in ${response.status} ${JSON.stringify(response.headers)}`);
  return set.split(';')[0]!;
}

const view = (cookie: string | undefined, path = '/console', headers: Record<string, string> = {}) =>
  fetch(`${origin}${path}`, { headers: { ...(cookie ? { cookie } : {}), ...headers } });

/** `login` over HTTP at /graphql, as a client would send it. */
async function graphqlLogin(username: string, password: string, address?: string) {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...from(address) },
    body: JSON.stringify({
      query: 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { accessToken } }',
      variables: { u: username, p: password },
    }),
  });
  return (await response.json()) as {
    data?: { login: { accessToken: string } } | null;
    errors?: { message: string; extensions: { code: string; retryAfterSeconds?: number } }[];
  };
}

/** What a refused view must look like: the sign-in form, and nothing of the console or of why. */
async function expectSignInPage(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBeNull();
  const html = await response.text();
  expect(html).toContain('<form class="bar" method="post" action="/console/sign-in">');
  expect(html).not.toContain('data-user');
  expect(html).not.toMatch(/jw[st]|signature|expired|invalid|stack|\bat \S+ \(|node_modules|\/work\//i);
  return html;
}

describe('one sign-in', () => {
  it('sets an HttpOnly, SameSite=Strict, short-lived cookie for /console only, and returns to the view asked for', async () => {
    const response = await signIn('sa', 'p', from('192.0.2.1'), { user: 'u1', compare: '' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/console?user=u1');
    const [cookie] = response.headers.getSetCookie();
    expect(cookie).toMatch(new RegExp(`^${CONSOLE_COOKIE}=[\\w-]+\\.[\\w-]+\\.[\\w-]+;`));
    expect(cookie).toContain('Path=/console');
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain(`Max-Age=${TEST_AUTH_CONFIG.accessTokenTtlSeconds}`);
    const page = await view(sessionCookie(response), '/console?user=u1', from('192.0.2.1'));
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('<section data-user="u1">');
    expect(html).toContain('Signed in as sa');
  });

  it('serves 150 views without spending login budget: a normal user then still logs in from the same address', async () => {
    const address = '192.0.2.2';
    const cookie = sessionCookie(await signIn('sa', 'p', from(address)));
    const keys = t.auth.throttle.keysInMemory();
    for (let i = 0; i < 150; i++) {
      const response = await view(cookie, i % 50 === 0 ? '/console?user=s1' : '/console', from(address));
      expect(response.status, `view ${i + 1}`).toBe(200);
      await response.arrayBuffer();
    }
    // Not one throttle key was made or counted by the views (with HTTP Basic, view 101 was refused and
    // every login from the address after it was 429 for 15 minutes).
    expect(t.auth.throttle.keysInMemory()).toBe(keys);
    const login = await graphqlLogin('u1', 'p', address);
    expect(login.errors).toBeUndefined();
    expect(login.data?.login.accessToken).toEqual(expect.any(String));
  });

  it('is a console session only: not accepted as a bearer token, and an access token is not a console session', async () => {
    const cookie = sessionCookie(await signIn('sa', 'p', from('192.0.2.3')));
    const me = await fetch(`${origin}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${cookie.slice(CONSOLE_COOKIE.length + 1)}`,
      },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const body = (await me.json()) as { errors?: { extensions: { code: string } }[] };
    expect(body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');

    const accessToken = (await graphqlLogin('sa', 'p', '192.0.2.3')).data!.login.accessToken;
    await expectSignInPage(await view(`${CONSOLE_COOKIE}=${accessToken}`));
  });

  it('ends at sign-out: the cookie is cleared', async () => {
    const cookie = sessionCookie(await signIn('sa', 'p', from('192.0.2.4')));
    const out = await fetch(`${origin}/console/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin },
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/console');
    expect(out.headers.getSetCookie()[0]).toMatch(
      new RegExp(`^${CONSOLE_COOKIE}=;.*Expires=Thu, 01 Jan 1970`),
    );
  });
});

describe('failed sign-ins', () => {
  it('are throttled per account and address after 10, with the status and words of a login throttle', async () => {
    const guesser = '203.0.113.10';
    for (let i = 0; i < 10; i++) {
      const response = await signIn('sa', `guess${i}`, from(guesser));
      expect(response.status).toBe(401);
      expect(await response.text()).toContain('Invalid username or password');
    }
    // Now even the right password is refused from that address, as a login would be.
    const throttled = await signIn('sa', 'p', from(guesser));
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    const message = THROTTLED.exec(await throttled.text())?.[0];
    expect(message).toBeDefined();
    expect(throttled.headers.getSetCookie()).toEqual([]);

    // It is the login throttle itself: GraphQL and REST logins of the account at that address are
    // throttled too, in the same words (and the GraphQL error's code and retry hint).
    const graphql = await graphqlLogin('sa', 'p', guesser);
    expect(graphql.errors?.[0]?.message).toMatch(THROTTLED);
    expect(graphql.errors?.[0]?.extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      retryAfterSeconds: expect.any(Number),
    });
    const rest = await fetch(`${origin}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...from(guesser) },
      body: JSON.stringify({ username: 'sa', password: 'p' }),
    });
    expect(rest.status).toBe(429);
    expect(((await rest.json()) as { error: string }).error.replace(/\d+/, 'N')).toBe(
      message!.replace(/\d+/, 'N'),
    );

    // Per account: another account at that address is not throttled…
    expect((await graphqlLogin('u1', 'p', guesser)).data?.login.accessToken).toEqual(expect.any(String));
    // …and per address: the superuser signs in from their own.
    expect((await signIn('sa', 'p', from('198.51.100.10'))).status).toBe(303);
  });

  it('a user other than the superuser is refused in the words of a wrong password, right password or not', async () => {
    const address = '203.0.113.11';
    const wrong = await signIn('u1', 'wrong', from(address), { user: 'u2' });
    const right = await signIn('u1', 'p', from(address), { user: 'u2' });
    expect(right.status).toBe(wrong.status);
    expect(right.status).toBe(401);
    expect(await right.text()).toBe(await wrong.text());
    expect(right.headers.getSetCookie()).toEqual([]);
  });

  it('bounds what a form may hold before any throttle state or password check', async () => {
    const keys = t.auth.throttle.keysInMemory();
    const long = await signIn('x'.repeat(257), 'p', from('203.0.113.12'));
    expect(long.status).toBe(400);
    expect(await long.text()).toContain('username must be at most 256 characters long');
    const huge = await signIn('sa', 'p'.repeat(100_000), from('203.0.113.12'));
    expect(huge.status).toBe(413);
    expect(await huge.text()).toContain('The sign-in form could not be read.');
    const missing = await fetch(`${origin}/console/sign-in`, {
      method: 'POST',
      headers: { origin, ...from('203.0.113.12') },
      body: new URLSearchParams({ username: 'sa' }),
    });
    expect(missing.status).toBe(400);
    expect(t.auth.throttle.keysInMemory()).toBe(keys);
  });
});

const secret = new TextEncoder().encode(TEST_AUTH_CONFIG.jwtSecret);
const now = () => Math.floor(Date.now() / 1000);

/** A console session built by hand with the gateway's own key; every field can be bent. */
function forge(
  overrides: { header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: Uint8Array } = {},
) {
  return new SignJWT({
    sub: 'sa',
    roles: ['sa'],
    iss: TEST_AUTH_CONFIG.jwtIssuer,
    aud: consoleSessionAudience(TEST_AUTH_CONFIG.jwtAudience),
    iat: now(),
    exp: now() + 600,
    ...overrides.claims,
  })
    .setProtectedHeader({ alg: 'HS256', typ: CONSOLE_SESSION_TYPE, ...overrides.header } as { alg: string })
    .sign(overrides.key ?? secret);
}

describe('cookies the console refuses (the sign-in page again, and the cookie dropped)', () => {
  it('accepts a well-formed one (the baseline the others differ from)', async () => {
    expect((await view(`${CONSOLE_COOKIE}=${await forge()}`)).status).toBe(200);
  });

  it('answers no cookie with the sign-in page', async () => {
    const html = await expectSignInPage(await view(undefined, '/console?user=u1&compare=s1'));
    // The view asked for comes back after the sign-in.
    expect(html).toContain('<input type="hidden" name="user" value="u1">');
    expect(html).toContain('<input type="hidden" name="compare" value="s1">');
  });

  const tamper = (token: string) => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const changed = Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url');
    return `${header}.${changed}.${signature}`;
  };
  const refused: [string, () => Promise<string>][] = [
    ['tampered (a claim changed)', async () => tamper(await forge())],
    [
      // The signature's first character: all six of its bits are the signature's (the last
      // character's lowest bits are base64url padding, which a decoder may ignore).
      'tampered (signature bit flipped)',
      async () =>
        (await forge()).replace(
          /\.([^.])([^.]*)$/,
          (_, first: string, rest: string) => `.${first === 'A' ? 'B' : 'A'}${rest}`,
        ),
    ],
    ['expired', () => forge({ claims: { iat: now() - 1200, exp: now() - 60 } })],
    ['older than a session lasts', () => forge({ claims: { iat: now() - 3600, exp: now() + 600 } })],
    ['of a user without the role sa', () => forge({ claims: { sub: 'u1', roles: [] } })],
    ['of a user with other roles', () => forge({ claims: { sub: 's1', roles: ['sales', 'sa ', 'x,sa'] } })],
    [
      'signed with another key',
      () => forge({ key: new TextEncoder().encode('another secret, also 32 bytes long!') }),
    ],
    ['for another audience', () => forge({ claims: { aud: TEST_AUTH_CONFIG.jwtAudience } })],
    ['of another type', () => forge({ header: { typ: 'at+jwt' } })],
    ['unsigned', async () => `${(await forge()).split('.').slice(0, 2).join('.')}.`],
    ['garbage', () => Promise.resolve('not-a-token; <script>')],
  ];
  it.each(refused)('%s', async (_case, token) => {
    const response = await view(`${CONSOLE_COOKIE}=${await token()}`, '/console?user=u1');
    await expectSignInPage(response);
    expect(response.headers.getSetCookie()[0]).toMatch(new RegExp(`^${CONSOLE_COOKIE}=;`));
  });
});

describe('forms from elsewhere (CSRF)', () => {
  const cases: [string, Record<string, string>][] = [
    ['another Origin', { origin: 'http://attacker.example', 'sec-fetch-site': '' }],
    ['a cross-site request', { origin: 'http://attacker.example', 'sec-fetch-site': 'cross-site' }],
    [
      'a same-site, other-origin request',
      { origin: 'http://other.localhost', 'sec-fetch-site': 'same-site' },
    ],
    ['an opaque origin (sandboxed frame)', { origin: 'null', 'sec-fetch-site': '' }],
    ['no Origin nor Sec-Fetch-Site', { origin: '', 'sec-fetch-site': '' }],
  ];
  it.each(cases)(
    'refuses a sign-in from %s, before checking the password or counting an attempt',
    async (_case, headers) => {
      const keys = t.auth.throttle.keysInMemory();
      const response = await signIn('sa', 'p', { ...headers, ...from('203.0.113.20') });
      expect(response.status).toBe(403);
      expect(response.headers.getSetCookie()).toEqual([]);
      expect(t.auth.throttle.keysInMemory()).toBe(keys);
    },
  );

  it('accepts Origin alone when it is the gateway’s own (a browser that sends no Sec-Fetch-Site over plain HTTP)', async () => {
    const response = await signIn('sa', 'p', { 'sec-fetch-site': '', ...from('203.0.113.21') });
    expect(response.status).toBe(303);
  });

  it('refuses a sign-out from another site, and the session goes on', async () => {
    const cookie = sessionCookie(await signIn('sa', 'p', from('203.0.113.22')));
    const out = await fetch(`${origin}/console/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: 'http://attacker.example', 'sec-fetch-site': 'cross-site' },
    });
    expect(out.status).toBe(403);
    expect(out.headers.getSetCookie()).toEqual([]);
    expect((await view(cookie)).status).toBe(200);
  });
});
