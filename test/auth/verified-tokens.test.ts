import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { InvalidTokenError, TokenService } from '../../src/auth/token-service.js';

const settings = { issuer: 'grantgate', audience: 'grantgate', accessTokenTtlSeconds: 600 };
const user: AuthUser = { id: 'u1', name: 'U One', roles: ['tenant'], attributes: { clientId: 1 } };

/** Counts the full verifications (signature and claims) behind verifyAccessToken. */
const verifications = (tokens: TokenService) =>
  vi.spyOn(tokens as unknown as { verify: (token: string) => Promise<unknown> }, 'verify');

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('verified access tokens are remembered until they expire', () => {
  it('a token checked once is not checked again, and gives the same user', async () => {
    const tokens = TokenService.withSecret('x'.repeat(48), settings);
    const { token } = await tokens.issueAccessToken(user);
    const verify = verifications(tokens);
    const first = await tokens.verifyAccessToken(token);
    const second = await tokens.verifyAccessToken(token);
    expect(first).toEqual(user);
    expect(second).toEqual(user);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('the remembered user cannot be changed by a request for the next one', async () => {
    const tokens = TokenService.withSecret('x'.repeat(48), settings);
    const { token } = await tokens.issueAccessToken(user);
    const remembered = await tokens.verifyAccessToken(token);
    expect(() => remembered.roles.push('sa')).toThrow(TypeError);
    expect(() => {
      remembered.attributes.clientId = 2;
    }).toThrow(TypeError);
    expect((await tokens.verifyAccessToken(token)).roles).toEqual(['tenant']);
  });

  it('a remembered token is refused once it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const tokens = TokenService.withSecret('x'.repeat(48), { ...settings, accessTokenTtlSeconds: 60 });
    const { token } = await tokens.issueAccessToken(user);
    await tokens.verifyAccessToken(token);
    vi.setSystemTime(Date.now() + 59_000);
    await expect(tokens.verifyAccessToken(token)).resolves.toEqual(user);
    // Past expiry and jose's 30 s clock tolerance: checked again, and refused.
    vi.setSystemTime(Date.now() + 32_000);
    await expect(tokens.verifyAccessToken(token)).rejects.toThrow(InvalidTokenError);
  });

  it('a token differing from a remembered one in any character is checked, and refused', async () => {
    const tokens = TokenService.withSecret('x'.repeat(48), settings);
    const { token } = await tokens.issueAccessToken(user);
    await tokens.verifyAccessToken(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const promoted = Buffer.from(JSON.stringify({ ...claims, roles: ['sa'] })).toString('base64url');
    await expect(tokens.verifyAccessToken(`${header}.${promoted}.${signature}`)).rejects.toThrow(
      InvalidTokenError,
    );
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BB' : 'AA');
    await expect(tokens.verifyAccessToken(`${header}.${payload}.${flipped}`)).rejects.toThrow(
      InvalidTokenError,
    );
  });

  it('a token of another gateway key is not accepted from this one’s memory', async () => {
    const ours = TokenService.withSecret('x'.repeat(48), settings);
    const theirs = TokenService.withSecret('y'.repeat(48), settings);
    const { token } = await theirs.issueAccessToken(user);
    await theirs.verifyAccessToken(token);
    await expect(ours.verifyAccessToken(token)).rejects.toThrow(InvalidTokenError);
  });
});
