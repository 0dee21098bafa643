import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeDnValue, escapeFilterValue } from '../../auth-providers/ldap/ldap-strings.js';
import { LdapAuthProvider } from '../../auth-providers/ldap/ldap.provider.js';
import { LDAP_SUFFIX, populateDirectory, type Slapd, startSlapd } from '../helpers/slapd.js';
import { CONTRACT_USERS, describeAuthProviderContract } from './provider-contract.js';

/** A real user whose name holds replacement patterns, filter and DN specials and non-ASCII. */
const HOSTILE_UID = "m$'(a)*\\ü,+=x";

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
    { uid: HOSTILE_UID, cn: 'Hostile Name', password: 'hostile', groups: ['tenant'] },
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
    demoUsers: [],
    production: false,
    demoAccounts: [],
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
    demoUsers: [],
    production: false,
    demoAccounts: [],
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

  // Each one, if it reached the directory unescaped or through a replacement pattern, would break the
  // filter or DN (a 500) or match another entry; none may do either, in either way of binding.
  it.each([
    "alice$'",
    'alice$&',
    "$'",
    '$`',
    '$1',
    'alice*',
    'alice)(uid=*',
    '(',
    ')',
    'alice\\',
    'alice\0',
    'alice\\2a',
    'alice,ou=people',
    'alice+cn=Alice',
    'uid=alice',
    '#alice',
    'ålice',
    'ali  ce',
    "m$'(a)*",
    'm*',
    "m$'(a)*\\ü",
  ])('answers %j with no one, neither failing nor matching another user', async (username) => {
    for (const provider of [searchThenBind(), directBind()]) {
      for (const password of ['correct horse', 'hostile', 'comma']) {
        expect(await provider.authenticate(username, password)).toBeNull();
      }
    }
  });

  it('logs in a user whose name holds every special character, as that user', async () => {
    for (const provider of [searchThenBind(), directBind()]) {
      expect(await provider.authenticate(HOSTILE_UID, 'hostile')).toMatchObject({
        id: HOSTILE_UID,
        roles: ['tenant'],
      });
      expect(await provider.authenticate(HOSTILE_UID, 'correct horse')).toBeNull();
    }
  });

  it('takes a name in another case or with insignificant spaces as the same user, as the directory does', async () => {
    for (const provider of [searchThenBind(), directBind()]) {
      for (const username of ['ALICE', 'alice  ', ' alice', ' Alice ']) {
        expect(await provider.authenticate(username, 'correct horse')).toMatchObject({ id: 'alice' });
        // …and so they are one account to the login throttle.
        expect(provider.normalizeUsername(username)).toBe('alice');
      }
      expect(provider.normalizeUsername('ali  ce')).toBe('ali ce');
      expect(provider.normalizeUsername("M$'(A)*\\Ü")).toBe("m$'(a)*\\ü");
    }
  });

  it('escapes DN values by RFC 4514 and filter values by RFC 4515', () => {
    expect(escapeDnValue(' #a,b+c=d;e<f>g"h\\i#j ')).toBe('\\ #a\\,b\\+c\\=d\\;e\\<f\\>g\\"h\\\\i#j\\ ');
    expect(escapeDnValue('#a')).toBe('\\#a');
    expect(escapeDnValue('a\0b')).toBe('a\\00b');
    expect(escapeDnValue("ü$'")).toBe("ü$'");
    expect(escapeFilterValue('a*(b)\\c\0ü')).toBe('a\\2a\\28b\\29\\5cc\\00ü');
  });

  it('without a service account, does not offer to re-read users (refresh keeps the login’s view)', () => {
    expect(directBind().findUser).toBeUndefined();
    expect(searchThenBind().findUser).toBeTypeOf('function');
  });

  it('refuses to start without the settings it needs, naming them', () => {
    const create = (env: Record<string, string>) => () =>
      new LdapAuthProvider({
        databaseUrl: 'postgres://unused',
        demoUsers: [],
        production: false,
        demoAccounts: [],
        env,
      });
    expect(create({})).toThrow('the ldap auth provider needs LDAP_URL');
    expect(create({ LDAP_URL: 'ldap://x' })).toThrow('LDAP_USER_DN_TEMPLATE or LDAP_BIND_DN');
    expect(create({ LDAP_URL: 'ldap://x', LDAP_USER_DN_TEMPLATE: 'uid=x' })).toThrow(
      'must contain {username}',
    );
  });
});
