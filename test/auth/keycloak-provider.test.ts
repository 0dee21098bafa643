import { decodeJwt, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeycloakAuthProvider } from '../../auth-providers/keycloak/keycloak.provider.js';
import {
  LoginDocument,
  MeDocument,
  RefreshTokenDocument,
} from '../../demo/northwind/__generated__/graphql.js';
import {
  type IdpUser,
  type KeycloakLikeIdp,
  signingKey,
  startKeycloakLikeIdp,
} from '../helpers/keycloak-like-idp.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { CONTRACT_USERS, describeAuthProviderContract } from './provider-contract.js';

const idpUsers: IdpUser[] = CONTRACT_USERS.map((user): IdpUser => ({
  username: user.id,
  name: user.name ?? undefined,
  password: user.password,
  disabled: user.disabled,
  realmRoles: user.roles,
  clientRoles: user.id === 'alice' ? { grantgate: ['reporting'], 'other-app': ['admin'] } : undefined,
  attributes: Object.fromEntries(
    Object.entries(user.attributes).map(([name, value]) => [name, [String(value)]]),
  ),
}));

let key: JWK;
let idp: KeycloakLikeIdp;
beforeAll(async () => {
  key = await signingKey();
  idp = await startKeycloakLikeIdp({ users: idpUsers, key });
});
afterAll(() => idp?.stop());

const keycloakEnv = (overrides: Record<string, string> = {}) => ({
  KEYCLOAK_URL: idp.url,
  KEYCLOAK_REALM: idp.realm,
  KEYCLOAK_CLIENT_ID: 'grantgate',
  KEYCLOAK_CLIENT_SECRET: 'grantgate-secret',
  // Pick up a rotated key at once (in production the default waits 30 s between JWKS fetches).
  KEYCLOAK_JWKS_COOLDOWN_MS: '0',
  ...overrides,
});
const provider = (overrides: Record<string, string> = {}) =>
  new KeycloakAuthProvider({
    databaseUrl: 'postgres://unused',
    demoUsers: [],
    production: false,
    demoAccounts: [],
    env: keycloakEnv(overrides),
  });

describeAuthProviderContract('keycloak', async () => ({ provider: provider(), cleanup: async () => {} }), {
  rereadsUsers: false,
});

describe('keycloak provider', () => {
  it('adds the client’s roles (not other clients’) when asked to, and drops Keycloak’s built-in roles', async () => {
    expect((await provider().authenticate('alice', 'correct horse'))?.roles).toEqual(['sales', 'tenant']);
    expect(
      (await provider({ KEYCLOAK_CLIENT_ROLES: 'true' }).authenticate('alice', 'correct horse'))?.roles,
    ).toEqual(['reporting', 'sales', 'tenant']);
  });

  it('accepts a token Keycloak issued to this client, and refuses one for another client or realm', async () => {
    expect(await provider().verifyToken(await idp.tokenFor('alice', 'correct horse'))).toMatchObject({
      id: 'alice',
    });
    expect(
      await provider().verifyToken(await idp.tokenFor('alice', 'correct horse', 'other-app')),
    ).toBeNull();
    const otherRealm = await startKeycloakLikeIdp({ users: idpUsers, key, realm: 'elsewhere' });
    try {
      expect(await provider().verifyToken(await otherRealm.tokenFor('alice', 'correct horse'))).toBeNull();
    } finally {
      await otherRealm.stop();
    }
  });

  it('accepts only access tokens issued to this client: not its ID token, nor another client’s token naming it in aud', async () => {
    const own = await idp.tokensFor('alice', 'correct horse');
    expect(await provider().verifyToken(own.accessToken)).toMatchObject({ id: 'alice' });
    // Same realm key, issuer and `aud` (the client id) as an access token: only `typ: ID` tells it apart.
    expect(decodeJwt(own.idToken)).toMatchObject({ typ: 'ID', aud: 'grantgate', azp: 'grantgate' });
    expect(await provider().verifyToken(own.idToken)).toBeNull();
    // Another client whose audience mapper adds this one: `aud` passes, `azp` is the other client.
    const foreign = await idp.tokensFor('alice', 'correct horse', {
      clientId: 'other-app',
      audience: 'grantgate',
    });
    expect(decodeJwt(foreign.accessToken)).toMatchObject({
      aud: 'grantgate',
      azp: 'other-app',
    });
    expect(await provider().verifyToken(foreign.accessToken)).toBeNull();
  });

  it('throttles user names as Keycloak finds them: case and surrounding spaces do not matter', () => {
    expect(provider().normalizeUsername('  Alice ')).toBe('alice');
    expect(provider().normalizeUsername('ALICE')).toBe(provider().normalizeUsername('alice'));
  });

  it('a wrong client secret is a configuration error, not a wrong password', async () => {
    await expect(
      provider({ KEYCLOAK_CLIENT_SECRET: 'nope' }).authenticate('alice', 'correct horse'),
    ).rejects.toThrow(/Keycloak refused the token request/);
  });

  it('refuses to start without the settings it needs, naming them', () => {
    expect(
      () =>
        new KeycloakAuthProvider({
          databaseUrl: 'x',
          demoUsers: [],
          production: false,
          demoAccounts: [],
          env: {},
        }),
    ).toThrow('the keycloak auth provider needs KEYCLOAK_URL');
  });
});

describe('the gateway with AUTH_PROVIDER=keycloak', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ auth: { authProvider: 'keycloak' }, authEnv: keycloakEnv() });
  });
  afterAll(() => t?.close());

  const anonymous = { authorization: null };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const login = () => t.execute(LoginDocument, { username: 'alice', password: 'correct horse' }, anonymous);

  it('logs in through the realm and issues its own tokens', async () => {
    const result = await login();
    expect(result.data?.login.user).toEqual({
      id: 'alice',
      name: 'Alice',
      roles: ['sales', 'tenant'],
      attributes: { clientId: 2, region: 'British Isles' },
    });
    const me = await t.execute(MeDocument, {}, bearer(result.data!.login.accessToken));
    expect(me.data?.me?.id).toBe('alice');
  });

  it('accepts Keycloak’s own access token as a bearer token', async () => {
    const me = await t.execute(MeDocument, {}, bearer(await idp.tokenFor('alice', 'correct horse')));
    expect(me.data?.me).toMatchObject({
      id: 'alice',
      roles: ['sales', 'tenant'],
      attributes: { clientId: 2 },
    });
  });

  it('answers UNAUTHENTICATED to Keycloak’s ID token sent as a bearer token', async () => {
    const { idToken } = await idp.tokensFor('alice', 'correct horse');
    const me = await t.execute(MeDocument, {}, bearer(idToken));
    expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(me.data?.me ?? null).toBeNull();
  });

  it('survives a key rotation: new Keycloak tokens verify, old ones do not, its own tokens keep working', async () => {
    const before = (await login()).data!.login;
    const oldKeycloakToken = await idp.tokenFor('alice', 'correct horse');
    await idp.stop();
    idp = await startKeycloakLikeIdp({ users: idpUsers, key: await signingKey(), port: idp.port });

    expect(
      (await t.execute(MeDocument, {}, bearer(await idp.tokenFor('alice', 'correct horse')))).data?.me?.id,
    ).toBe('alice');
    expect((await t.execute(MeDocument, {}, bearer(oldKeycloakToken))).errors?.[0]?.extensions?.code).toBe(
      'UNAUTHENTICATED',
    );
    expect((await t.execute(MeDocument, {}, bearer(before.accessToken))).data?.me?.id).toBe('alice');
    expect((await login()).errors).toBeUndefined();
  });

  it('with Keycloak down, login fails with a clear error while issued tokens and refresh keep working', async () => {
    const session = (await login()).data!.login;
    await idp.stop();
    try {
      const result = await login();
      expect(result.errors?.[0]).toMatchObject({
        message: 'Login is unavailable: the identity provider cannot be reached. Try again later.',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect((await t.execute(MeDocument, {}, bearer(session.accessToken))).data?.me?.id).toBe('alice');
      const refreshed = await t.execute(
        RefreshTokenDocument,
        { refreshToken: session.refreshToken },
        anonymous,
      );
      expect(refreshed.data?.refreshToken.user.id).toBe('alice');

      const url = await t.gateway.listen(0, '127.0.0.1');
      const rest = await fetch(url.replace('/graphql', '/api/auth/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'correct horse' }),
      });
      expect(rest.status).toBe(503);
    } finally {
      idp = await startKeycloakLikeIdp({ users: idpUsers, key, port: idp.port });
    }
  });
});
