import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthProvider, type AuthUser } from '../../auth-providers/auth-provider.js';

export interface ProviderUnderTest {
  provider: AuthProvider;
  cleanup(): Promise<void>;
}

/** The users every provider under test is set up with (its setup decides how they are stored). */
export const CONTRACT_USERS: (AuthUser & { password: string; disabled?: boolean })[] = [
  {
    id: 'alice',
    name: 'Alice',
    roles: ['sales', 'tenant'],
    attributes: { clientId: 2, region: 'British Isles' },
    password: 'correct horse',
  },
  { id: 'bob', name: null, roles: [], attributes: {}, password: 'battery staple' },
  {
    id: 'carol',
    name: 'Carol',
    roles: ['tenant'],
    attributes: { clientId: 1 },
    password: 'gone fishing',
    disabled: true,
  },
];

/**
 * One contract, run against every auth provider: what the gateway relies on, whoever stores the users.
 */
export function describeAuthProviderContract(
  name: string,
  setup: () => Promise<ProviderUnderTest>,
  options: { rereadsUsers: boolean } = { rereadsUsers: true },
) {
  describe(`${name} provider contract`, () => {
    let under: ProviderUnderTest;
    beforeAll(async () => {
      under = await setup();
    });
    afterAll(() => under?.cleanup());

    it('returns the user, roles and attributes for the right password', async () => {
      const user = await under.provider.authenticate('alice', 'correct horse');
      expect(user).toEqual({
        id: 'alice',
        name: 'Alice',
        roles: ['sales', 'tenant'],
        attributes: { clientId: 2, region: 'British Isles' },
      });
    });

    it('returns a user without roles with an empty role list', async () => {
      expect(await under.provider.authenticate('bob', 'battery staple')).toMatchObject({
        id: 'bob',
        roles: [],
        attributes: {},
      });
    });

    it.each([
      ['a wrong password', 'alice', 'Correct horse'],
      ['an empty password', 'alice', ''],
      ['an unknown user', 'mallory', 'correct horse'],
      ['a disabled user', 'carol', 'gone fishing'],
    ])('returns null for %s', async (_case, username, password) => {
      expect(await under.provider.authenticate(username, password)).toBeNull();
    });

    it('never makes a second identity of a user id in another case', async () => {
      // Directories (LDAP) may match ids without regard to case; then the stored spelling is the id.
      const user = await under.provider.authenticate('ALICE', 'correct horse');
      expect(user === null || user.id === 'alice').toBe(true);
    });

    if (options.rereadsUsers) {
      it('re-reads a user by id, and not a disabled or unknown one', async () => {
        expect(await under.provider.findUser!('alice')).toMatchObject({
          id: 'alice',
          roles: ['sales', 'tenant'],
        });
        expect(await under.provider.findUser!('carol')).toBeNull();
        expect(await under.provider.findUser!('mallory')).toBeNull();
      });
    } else {
      it('does not offer to re-read users, so a refresh keeps the view of the login', () => {
        expect(under.provider.findUser).toBeUndefined();
      });
    }
  });
}
