import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { CONTENT_SECURITY_POLICY } from '../../src/http/pages/page-security.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * The gateway's own pages over HTTP: what they send and to whom (the browser tests in test/pages show
 * what they do). In development the explorer and the console are open; in production the explorer is
 * off with introspection and the console asks the superuser to sign in.
 */
async function serve(production: boolean) {
  const t = await startTestGateway({
    settings: { ...DEFAULT_GATEWAY_SETTINGS, production, introspection: !production },
  });
  const origin = new URL(await t.gateway.listen(0, '127.0.0.1')).origin;
  return { t, origin };
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('in development', () => {
  let t: TestGateway;
  let origin: string;
  beforeAll(async () => ({ t, origin } = await serve(false)));
  afterAll(() => t?.close());

  it('serves /graphiql with a policy that allows only the gateway itself, and names nothing outside it', async () => {
    const response = await fetch(`${origin}/graphiql`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|\*/);
    const html = await response.text();
    expect(html).toContain('<script src="/assets/graphiql.min.js"></script>');
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('serves GraphiQL, React and the pages’ own files from node_modules and the gateway, and no other file', async () => {
    for (const file of ['graphiql.min.js', 'graphiql.min.css', 'react.production.min.js', 'explorer.js']) {
      const response = await fetch(`${origin}/assets/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    }
    for (const file of ['package.json', 'constructor', '..%2Fpackage.json', '%2Fetc%2Fpasswd']) {
      expect((await fetch(`${origin}/assets/${file}`)).status, file).toBe(404);
    }
  });

  it('gives GraphiQL the schema’s introspection, which its own query is too deep to get', async () => {
    const body = (await (await fetch(`${origin}/graphiql/schema.json`)).json()) as {
      data: { __schema: { queryType: { name: string } } };
    };
    expect(body.data.__schema.queryType.name).toBe('Query');
  });

  it('opens /console without credentials, and says when the auth provider does not know a user', async () => {
    const response = await fetch(`${origin}/console?user=nobody-here&compare=u1`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const html = await response.text();
    expect(html).toContain('The auth provider does not know this user.');
    expect(html).toContain('<section data-user="u1">');
  });

  it('escapes what it shows', async () => {
    const html = await (await fetch(`${origin}/console?user=${encodeURIComponent('<b>x</b>')}`)).text();
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});

describe('in production', () => {
  let t: TestGateway;
  let origin: string;
  beforeAll(async () => ({ t, origin } = await serve(true)));
  afterAll(() => t?.close());

  it('has no explorer while introspection is off', async () => {
    expect((await fetch(`${origin}/graphiql`)).status).toBe(404);
    expect((await fetch(`${origin}/graphiql/schema.json`)).status).toBe(404);
  });

  it('asks the superuser to sign in at /console, and shows it after one sign-in (test/http/console-sign-in.test.ts: how)', async () => {
    const anonymous = await fetch(`${origin}/console?user=u1`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(anonymous.headers.get('www-authenticate')).toBeNull();
    const html = await anonymous.text();
    expect(html).toContain('action="/console/sign-in"');
    expect(html).not.toContain('data-user');
    const signIn = await fetch(`${origin}/console/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin },
      body: new URLSearchParams({ username: 'sa', password: 'p', user: 'u1' }),
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    const sa = await fetch(`${origin}${signIn.headers.get('location')}`, { headers: { cookie } });
    expect(sa.status).toBe(200);
    expect(await sa.text()).toContain('<section data-user="u1">');
  });

  it('takes no HTTP Basic credentials at /console: they are neither checked nor counted', async () => {
    const keys = t.auth.throttle.keysInMemory();
    for (const [user, password] of [
      ['sa', 'p'],
      ['sa', 'wrong'],
    ]) {
      const response = await fetch(`${origin}/console?user=u1`, { headers: basic(user!, password!) });
      expect(response.status).toBe(401);
      expect(await response.text()).not.toContain('data-user');
    }
    expect(t.auth.throttle.keysInMemory()).toBe(keys);
  });
});
