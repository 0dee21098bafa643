import { Client, type Entry } from 'ldapts';
import { type AuthProvider, type AuthProviderOptions, type AuthUser } from '../auth-provider.js';
import { escapeDnValue, escapeFilterValue, fillTemplate, normalizeLdapName } from './ldap-strings.js';

/**
 * Users in an LDAP directory (OpenLDAP, Active Directory, …), with ldapts. A login binds as the
 * user: either at a DN built from LDAP_USER_DN_TEMPLATE, or at the DN that a search with a service
 * account (LDAP_BIND_DN) finds. Roles are the names of the groups the user is a member of;
 * attributes are mapped from entry attributes by LDAP_ATTRIBUTES.
 *
 *   LDAP_URL                  ldap://host:389 or ldaps://…
 *   LDAP_USER_DN_TEMPLATE     uid={username},ou=people,dc=example,dc=com   (direct bind)
 *   LDAP_BIND_DN, LDAP_BIND_PASSWORD   a service account (search-then-bind, and re-reading users on refresh)
 *   LDAP_USER_SEARCH_BASE     ou=people,dc=example,dc=com
 *   LDAP_USER_FILTER          (uid={username})   also excludes disabled users, e.g. (&(uid={username})(!(employeeType=disabled)))
 *   LDAP_GROUP_SEARCH_BASE    ou=groups,dc=example,dc=com
 *   LDAP_GROUP_FILTER         (member={dn})
 *   LDAP_ROLE_ATTRIBUTE       cn
 *   LDAP_ID_ATTRIBUTE         uid   (the user id the gateway uses; its stored spelling wins)
 *   LDAP_NAME_ATTRIBUTE       cn
 *   LDAP_ATTRIBUTES           clientId=departmentNumber,region=l   (numbers stay numbers)
 */
export class LdapAuthProvider implements AuthProvider {
  private readonly settings: ReturnType<typeof readSettings>;
  /** Re-reading a user on refresh needs the service account; without one, refresh keeps the login's view. */
  readonly findUser?: (id: string) => Promise<AuthUser | null>;

  constructor(options: AuthProviderOptions) {
    this.settings = readSettings(options.env);
    if (this.settings.bindDn) this.findUser = (id) => this.findUserAsService(id);
  }

  /** The directory compares user names as caseIgnoreMatch does: `ALICE` and `alice  ` are `alice`. */
  normalizeUsername(username: string): string {
    return normalizeLdapName(username);
  }

  async authenticate(username: string, password: string): Promise<AuthUser | null> {
    // An empty password is an anonymous bind in LDAP, which "succeeds": never let it through.
    if (username === '' || password === '') return null;
    const client = this.client();
    try {
      const dn = this.settings.userDnTemplate
        ? fillTemplate(this.settings.userDnTemplate, '{username}', escapeDnValue(username))
        : await this.findUserDn(client, username);
      if (!dn) return null;
      try {
        await client.bind(dn, password);
      } catch {
        return null;
      }
      // Read the entry as the user: the user filter must still match (it excludes disabled users).
      return await this.readUser(client, dn, username);
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  private async findUserAsService(id: string): Promise<AuthUser | null> {
    const client = this.client();
    try {
      const dn = await this.findUserDn(client, id);
      return dn ? await this.readUser(client, dn, id) : null;
    } finally {
      await client.unbind().catch(() => {});
    }
  }

  private client() {
    return new Client({ url: this.settings.url, timeout: 5000, connectTimeout: 5000 });
  }

  /** Binds with the service account and finds the DN of the one user the filter matches. */
  private async findUserDn(client: Client, username: string): Promise<string | null> {
    if (!this.settings.bindDn)
      throw new Error('LDAP: set LDAP_USER_DN_TEMPLATE, or LDAP_BIND_DN to search for users');
    await client.bind(this.settings.bindDn, this.settings.bindPassword);
    const { searchEntries } = await client.search(this.settings.userSearchBase, {
      scope: 'sub',
      filter: this.userFilter(username),
      attributes: ['dn'],
      sizeLimit: 2,
    });
    return searchEntries.length === 1 ? searchEntries[0]!.dn : null;
  }

  private async readUser(client: Client, dn: string, username: string): Promise<AuthUser | null> {
    const { searchEntries } = await client.search(dn, { scope: 'base', filter: this.userFilter(username) });
    const entry = searchEntries[0];
    if (!entry) return null;
    const { searchEntries: groups } = await client.search(this.settings.groupSearchBase, {
      scope: 'sub',
      filter: fillTemplate(this.settings.groupFilter, '{dn}', escapeFilterValue(entry.dn)),
      attributes: [this.settings.roleAttribute],
    });
    const roles = groups.flatMap((group) => values(group, this.settings.roleAttribute)).sort();
    const attributes: Record<string, unknown> = {};
    for (const [name, ldapAttribute] of this.settings.attributeMap) {
      const [value] = values(entry, ldapAttribute);
      if (value !== undefined) attributes[name] = /^-?\d+$/.test(value) ? Number(value) : value;
    }
    const [id] = values(entry, this.settings.idAttribute);
    // The directory may match ids without regard to case; the stored spelling is the identity.
    return {
      id: id ?? username,
      name: values(entry, this.settings.nameAttribute)[0] ?? null,
      roles,
      attributes,
    };
  }

  private userFilter(username: string) {
    return fillTemplate(this.settings.userFilter, '{username}', escapeFilterValue(username));
  }
}

function values(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((name) => name.toLowerCase() === attribute.toLowerCase());
  const value = key ? entry[key] : undefined;
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((item) => item.toString());
}

function readSettings(env: NodeJS.ProcessEnv) {
  const required = (name: string) => {
    const value = env[name];
    if (!value) throw new Error(`the ldap auth provider needs ${name}`);
    return value;
  };
  const url = required('LDAP_URL');
  const userDnTemplate = env.LDAP_USER_DN_TEMPLATE;
  if (userDnTemplate && !userDnTemplate.includes('{username}')) {
    throw new Error('LDAP_USER_DN_TEMPLATE must contain {username}');
  }
  const bindDn = env.LDAP_BIND_DN;
  if (!userDnTemplate && !bindDn)
    throw new Error('the ldap auth provider needs LDAP_USER_DN_TEMPLATE or LDAP_BIND_DN');
  return {
    url,
    userDnTemplate,
    bindDn,
    bindPassword: bindDn ? required('LDAP_BIND_PASSWORD') : undefined,
    userSearchBase: bindDn ? required('LDAP_USER_SEARCH_BASE') : (env.LDAP_USER_SEARCH_BASE ?? ''),
    userFilter: env.LDAP_USER_FILTER ?? '(uid={username})',
    groupSearchBase: required('LDAP_GROUP_SEARCH_BASE'),
    groupFilter: env.LDAP_GROUP_FILTER ?? '(member={dn})',
    roleAttribute: env.LDAP_ROLE_ATTRIBUTE ?? 'cn',
    idAttribute: env.LDAP_ID_ATTRIBUTE ?? 'uid',
    nameAttribute: env.LDAP_NAME_ATTRIBUTE ?? 'cn',
    attributeMap: (env.LDAP_ATTRIBUTES ?? '')
      .split(',')
      .map((pair) => pair.trim())
      .filter(Boolean)
      .map((pair) => {
        const [name, attribute] = pair.split('=').map((part) => part.trim());
        if (!name || !attribute) throw new Error(`LDAP_ATTRIBUTES: "${pair}" is not name=ldapAttribute`);
        return [name, attribute] as const;
      }),
  };
}
