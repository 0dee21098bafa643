import {
  createLocalJWKSet,
  exportPKCS8,
  generateKeyPair,
  type JSONWebKeySet,
  jwtVerify,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, MeAndCustomerCountDocument } from '../../demo/northwind/__generated__/graphql.js';
import { startTestGateway, TEST_AUTH_CONFIG, type TestGateway } from '../helpers/test-gateway.js';

const secret = new TextEncoder().encode(TEST_AUTH_CONFIG.jwtSecret);
const now = () => Math.floor(Date.now() / 1000);

/** A token built by hand; every field can be bent to the case under test. */
function forge(
  overrides: { header?: Record<string, unknown>; claims?: Record<string, unknown>; key?: Uint8Array } = {},
) {
  const claims = {
    sub: 'sa',
    roles: ['sa'],
    attributes: {},
    iss: 'grantgate',
    aud: 'grantgate',
    iat: now(),
    exp: now() + 600,
    jti: 'forged',
    ...overrides.claims,
  };
  const defined = Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
  return new SignJWT(defined)
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', ...overrides.header } as { alg: string })
    .sign(overrides.key ?? secret);
}

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

const asBearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('access tokens', () => {
  it('a well-formed token is accepted (the baseline the forgeries differ from)', async () => {
    const result = await t.execute(MeAndCustomerCountDocument, {}, asBearer(await forge()));
    expect(result.data).toEqual({ me: { id: 'sa' }, customersCount: 91 });
  });

  it('a token up to 30 s past its expiry is still accepted (clock skew)', async () => {
    const token = await forge({ claims: { iat: now() - 300, exp: now() - 10 } });
    expect((await t.execute(MeAndCustomerCountDocument, {}, asBearer(token))).errors).toBeUndefined();
  });

  const refused: [string, () => Promise<string>][] = [
    ['expired', () => forge({ claims: { iat: now() - 900, exp: now() - 60 } })],
    ['without exp', () => forge({ claims: { exp: undefined } })],
    ['without sub', () => forge({ claims: { sub: undefined } })],
    ['for another audience', () => forge({ claims: { aud: 'another-app' } })],
    ['from another issuer', () => forge({ claims: { iss: 'https://evil.example' } })],
    ['signed with another secret', () => forge({ key: new TextEncoder().encode('x'.repeat(48)) })],
    ['of another type (typ JWT)', () => forge({ header: { typ: 'JWT' } })],
    ['issued in the future', () => forge({ claims: { iat: now() + 600, exp: now() + 1200 } })],
    ['older than the token lifetime', () => forge({ claims: { iat: now() - 3600, exp: now() + 600 } })],
    ['without roles', () => forge({ claims: { roles: undefined } })],
    ['with roles that are not strings', () => forge({ claims: { roles: [{ name: 'sa' }] } })],
    ['without attributes', () => forge({ claims: { attributes: undefined } })],
    [
      'unsigned (alg none)',
      async () =>
        new UnsecuredJWT({ sub: 'sa', roles: ['sa'], attributes: {}, jti: 'x' })
          .setIssuer('grantgate')
          .setAudience('grantgate')
          .setIssuedAt()
          .setExpirationTime('10m')
          .encode(),
    ],
    [
      'with a tampered payload',
      async () =>
        (await forge()).replace(
          /\.[^.]+\./,
          `.${Buffer.from(JSON.stringify({ sub: 'sa', roles: ['sa'], attributes: {}, iss: 'grantgate', aud: 'grantgate', iat: now(), exp: now() + 600, jti: 'y' })).toString('base64url')}.`,
        ),
    ],
    ['that is not a JWT', async () => 'garbage'],
  ];

  it.each(refused)('a token %s is UNAUTHENTICATED, and no data is read', async (_case, make) => {
    const result = await t.executeCountingSql(MeAndCustomerCountDocument, {}, asBearer(await make()));
    expect(result.data).toBeNull();
    expect(result.errors?.[0]).toMatchObject({
      message: 'Invalid or expired access token',
      extensions: { code: 'UNAUTHENTICATED' },
    });
    expect(result.statements).toEqual([]);
  });

  it.each(['Basic c2E6cA==', 'Bearer', 'Bearer a b', 'Token abc', 'Bearer <script>'])(
    'a malformed Authorization header (%s) is UNAUTHENTICATED',
    async (authorization) => {
      const result = await t.execute(MeAndCustomerCountDocument, {}, { authorization });
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    },
  );

  it('the scheme is case-insensitive', async () => {
    const result = await t.execute(
      MeAndCustomerCountDocument,
      {},
      { authorization: `bearer ${await forge()}` },
    );
    expect(result.errors).toBeUndefined();
  });

  it('no token at all on a data query is UNAUTHENTICATED', async () => {
    const result = await t.execute(MeAndCustomerCountDocument, {}, { authorization: null });
    expect(result.data).toBeNull();
    expect(result.errors?.map((error) => [error.path, error.extensions?.code])).toEqual(
      expect.arrayContaining([[['customersCount'], 'UNAUTHENTICATED']]),
    );
  });
});

describe.each(['Ed25519', 'RSA'] as const)('tokens signed with an asymmetric key (%s)', (kind) => {
  let keyed: TestGateway;
  let privatePem: string;
  beforeAll(async () => {
    const { privateKey } =
      kind === 'Ed25519'
        ? await generateKeyPair('EdDSA', { extractable: true })
        : await generateKeyPair('RS256', { extractable: true, modulusLength: 2048 });
    privatePem = await exportPKCS8(privateKey);
    keyed = await startTestGateway({ auth: { jwtPrivateKey: privatePem } });
  });
  afterAll(() => keyed?.close());

  it('publishes the public key as a JWKS that verifies the issued tokens', async () => {
    const url = await keyed.gateway.listen(0, '127.0.0.1');
    const jwks = (await (
      await fetch(url.replace('/graphql', '/.well-known/jwks.json'))
    ).json()) as JSONWebKeySet;
    expect(JSON.stringify(jwks)).not.toMatch(/"d"/);
    const login = await keyed.execute(
      LoginDocument,
      { username: 's1', password: 'p' },
      { authorization: null },
    );
    const { protectedHeader, payload } = await jwtVerify(
      login.data!.login.accessToken,
      createLocalJWKSet(jwks),
    );
    expect(protectedHeader).toMatchObject({
      alg: kind === 'Ed25519' ? 'EdDSA' : 'RS256',
      typ: 'at+jwt',
      kid: jwks.keys[0]!.kid,
    });
    expect(payload).toMatchObject({
      sub: 's1',
      roles: ['sales'],
      attributes: { clientId: 2, region: 'British Isles' },
    });
  });

  it('refuses an HS256 token, even one keyed with the public key (algorithm confusion)', async () => {
    const token = await forge({ key: new TextEncoder().encode(privatePem) });
    const result = await keyed.execute(MeAndCustomerCountDocument, {}, asBearer(token));
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

it('without an asymmetric key there is no JWKS (404)', async () => {
  const url = await t.gateway.listen(0, '127.0.0.1');
  expect((await fetch(url.replace('/graphql', '/.well-known/jwks.json'))).status).toBe(404);
});
