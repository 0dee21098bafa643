import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors } from 'oidc-provider';

export interface IdpUser {
  username: string;
  name?: string;
  password: string;
  disabled?: boolean;
  realmRoles: string[];
  clientRoles?: Record<string, string[]>;
  attributes?: Record<string, string[]>;
}

export interface KeycloakLikeIdp {
  /** What KEYCLOAK_URL is set to: the server, without /realms/<realm>. */
  url: string;
  realm: string;
  issuer: string;
  port: number;
  /** A password-grant access token straight from the IdP, as a front-end using Keycloak's login would hold. */
  tokenFor(username: string, password: string, clientId?: string): Promise<string>;
  /**
   * Everything a password grant answers: the access token and the ID token (signed with the same
   * realm key). `audience` is the access token's `aud` instead of the client, as an audience mapper
   * on the client would set it (oidc-provider signs one audience only).
   */
  tokensFor(
    username: string,
    password: string,
    options?: { clientId?: string; audience?: string },
  ): Promise<{ accessToken: string; idToken: string }>;
  stop(): Promise<void>;
}

export async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    ...(await exportJWK(privateKey)),
    kid: `key-${Math.random().toString(36).slice(2, 8)}`,
    use: 'sig',
    alg: 'RS256',
  };
}

/**
 * A real OpenID provider (oidc-provider) set up like a Keycloak realm: Keycloak's endpoint paths under
 * /realms/<realm>/protocol/openid-connect/, the password grant (which Keycloak offers and
 * oidc-provider does not, so it is registered here), and JWT access tokens with Keycloak's claim shapes
 * (`preferred_username`, `realm_access.roles`, `resource_access.<client>.roles`, `attributes`).
 */
export async function startKeycloakLikeIdp(options: {
  users: IdpUser[];
  key: JWK;
  port?: number;
  realm?: string;
}): Promise<KeycloakLikeIdp> {
  const realm = options.realm ?? 'grantgate';
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}`;
  const prefix = `/realms/${realm}`;
  const issuer = `${url}${prefix}`;
  const users = new Map(options.users.map((user) => [user.username, user]));

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'grantgate',
        client_secret: 'grantgate-secret',
        grant_types: ['password'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: 'other-app',
        client_secret: 'other-secret',
        grant_types: ['password'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: [options.key] },
    features: { devInteractions: { enabled: false } },
    ttl: { AccessToken: 300 },
    routes: {
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      jwks: '/protocol/openid-connect/certs',
      userinfo: '/protocol/openid-connect/userinfo',
      end_session: '/protocol/openid-connect/logout',
      revocation: '/protocol/openid-connect/revoke',
      introspection: '/protocol/openid-connect/token/introspect',
    },
    extraTokenClaims: async (_ctx, token) => {
      const user = users.get((token as { accountId: string }).accountId)!;
      return {
        // Keycloak marks its access tokens `typ: Bearer` (ID tokens `ID`, refresh tokens `Refresh`)
        // and names the client they were issued to in `azp`.
        typ: 'Bearer',
        azp: (token as { clientId: string }).clientId,
        ...claimsOf(user),
      };
    },
  });
  const claimsOf = (user: IdpUser) => ({
    preferred_username: user.username,
    ...(user.name ? { name: user.name } : {}),
    realm_access: { roles: [...user.realmRoles, 'offline_access', `default-roles-${realm}`] },
    resource_access: Object.fromEntries(
      Object.entries(user.clientRoles ?? {}).map(([client, roles]) => [client, { roles }]),
    ),
    attributes: user.attributes ?? {},
  });
  provider.registerGrantType(
    'password',
    async (ctx) => {
      const { username, password, audience } = ctx.oidc.params as {
        username?: string;
        password?: string;
        audience?: string;
      };
      const user = users.get(username ?? '');
      if (!user || user.password !== password) throw new errors.InvalidGrant('Invalid user credentials');
      if (user.disabled) throw new errors.InvalidGrant('Account disabled');
      const clientId = ctx.oidc.client!.clientId;
      // The password grant keeps no grant record (no consent, no refresh), so there is no grantId.
      const token = new provider.AccessToken({
        accountId: user.username,
        client: ctx.oidc.client!,
        scope: 'openid',
        gty: 'password',
      } as unknown as ConstructorParameters<typeof provider.AccessToken>[0]);
      // Keycloak puts the requesting client in `aud` (via an audience mapper) and signs with RS256.
      token.resourceServer = {
        identifier: () => clientId,
        audience: audience ?? clientId,
        scope: 'openid',
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      } as never;
      // Keycloak's ID token: `aud` and `azp` are the client, `typ` is ID, with the user's claims.
      const idToken = new provider.IdToken({ sub: user.username }, { ctx });
      for (const [claim, value] of Object.entries({
        sub: user.username,
        typ: 'ID',
        azp: clientId,
        ...claimsOf(user),
      }))
        idToken.set(claim, value);
      ctx.body = {
        access_token: await token.save(),
        id_token: await idToken.issue({ use: 'idtoken' }),
        token_type: 'Bearer',
        expires_in: token.expiration,
        scope: 'openid',
      };
    },
    ['username', 'password', 'scope', 'audience'],
  );
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (!req.url?.startsWith(`${prefix}/`)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    req.url = req.url.slice(prefix.length);
    void callback(req, res);
  });

  const tokensFor: KeycloakLikeIdp['tokensFor'] = async (
    username,
    password,
    { clientId = 'grantgate', audience } = {},
  ) => {
    const response = await fetch(`${issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: clientId,
        client_secret: clientId === 'grantgate' ? 'grantgate-secret' : 'other-secret',
        username,
        password,
        ...(audience ? { audience } : {}),
      }),
    });
    const body = (await response.json()) as { access_token?: string; id_token?: string; error?: string };
    if (!body.access_token || !body.id_token)
      throw new Error(`token request failed: ${JSON.stringify(body)}`);
    return { accessToken: body.access_token, idToken: body.id_token };
  };

  return {
    url,
    realm,
    issuer,
    port,
    tokenFor: async (username, password, clientId) =>
      (await tokensFor(username, password, { clientId })).accessToken,
    tokensFor,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
