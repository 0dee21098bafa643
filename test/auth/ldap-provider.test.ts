import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LdapAuthProvider } from '../../auth-providers/ldap/ldap.provider.js';
import { LDAP_SUFFIX, populateDirectory, type Slapd, startSlapd } from '../helpers/slapd.js';
import { CONTRACT_USERS, describeAuthProviderContract } from './provider-contract.js';

let slapd: Slapd;
beforeAll(async () => {
  slapd = await startSlapd();
  await populateDirectory(slapd.url, [
    ...CONTRACT_USERS.map((user) => ({
      uid: user.id,
      cn: user.name ?? user.id,
      password: user.password,
      groups: user.roles,
      disabled: user.disabled,
      attributes: {
        ...(user.attributes.clientId !== undefined
          ? { departmentNumber: String(user.attributes.clientId) }
          : {}),
        ...(user.attributes.region !== undefined ? { l: String(user.attributes.region) } : {}),
      },
    })),
    { uid: 'o,brien', cn: 'Pat O Brien', password: 'comma', groups: ['tenant'] },
  ]);
});
afterAll(() => slapd?.stop());

const common = () => ({
  LDAP_URL: slapd.url,
  LDAP_USER_FILTER: '(&(objectClass=inetOrgPerson)(uid={username})(!(employeeType=disabled)))',
  LDAP_GROUP_SEARCH_BASE: `ou=groups,${LDAP_SUFFIX}`,
  LDAP_ATTRIBUTES: 'clientId=departmentNumber,region=l',
  LDAP_NAME_ATTRIBUTE: 'cn',
});
const searchThenBind = () =>
  new LdapAuthProvider({
    databaseUrl: 'postgres://unused',
    seedDemoUsers: false,
    env: {
      ...common(),
      LDAP_BIND_DN: `cn=gateway,ou=services,${LDAP_SUFFIX}`,
      LDAP_BIND_PASSWORD: 'service-secret',
      LDAP_USER_SEARCH_BASE: `ou=people,${LDAP_SUFFIX}`,
    },
  });
const directBind = () =>
  new LdapAuthProvider({
    databaseUrl: 'postgres://unused',
    seedDemoUsers: false,
    env: { ...common(), LDAP_USER_DN_TEMPLATE: `uid={username},ou=people,${LDAP_SUFFIX}` },
  });

describeAuthProviderContract('ldap (search with a service account, then bind as the user)', async () => ({
  provider: searchThenBind(),
  cleanup: async () => {},
}));

describe('ldap provider', () => {
  it('binds directly at a DN built from the template', async () => {
    expect(await directBind().authenticate('alice', 'correct horse')).toMatchObject({
      id: 'alice',
      roles: ['sales', 'tenant'],
      attributes: { clientId: 2, region: 'British Isles' },
    });
    expect(await directBind().authenticate('alice', 'wrong')).toBeNull();
    expect(await directBind().authenticate('carol', 'gone fishing')).toBeNull();
  });

  it('escapes DN special characters in the user name', async () => {
    expect(await directBind().authenticate('o,brien', 'comma')).toMatchObject({
      id: 'o,brien',
      roles: ['tenant'],
    });
  });

  it.each([
    ['an empty password (an anonymous bind)', 'alice', ''],
    ['a filter wildcard', '*', 'correct horse'],
    ['a filter injection', 'alice)(uid=*', 'correct horse'],
    ['a DN injection', 'alice,ou=people', 'correct horse'],
  ])('refuses %s', async (_case, username, password) => {
    expect(await searchThenBind().authenticate(username, password)).toBeNull();
    expect(await directBind().authenticate(username, password)).toBeNull();
  });

  it('without a service account, does not offer to re-read users (refresh keeps the login’s view)', () => {
    expect(directBind().findUser).toBeUndefined();
    expect(searchThenBind().findUser).toBeTypeOf('function');
  });

  it('refuses to start without the settings it needs, naming them', () => {
    const create = (env: Record<string, string>) => () =>
      new LdapAuthProvider({ databaseUrl: 'postgres://unused', seedDemoUsers: false, env });
    expect(create({})).toThrow('the ldap auth provider needs LDAP_URL');
    expect(create({ LDAP_URL: 'ldap://x' })).toThrow('LDAP_USER_DN_TEMPLATE or LDAP_BIND_DN');
    expect(create({ LDAP_URL: 'ldap://x', LDAP_USER_DN_TEMPLATE: 'uid=x' })).toThrow(
      'must contain {username}',
    );
  });
});
