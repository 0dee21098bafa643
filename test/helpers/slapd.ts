import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, DN } from 'ldapts';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';
import { installedProgram, startDaemon } from './daemon.js';

export const LDAP_SUFFIX = 'dc=grantgate,dc=test';
export const LDAP_ADMIN = { dn: `cn=admin,${LDAP_SUFFIX}`, password: 'admin-secret' };

export interface Slapd {
  url: string;
  /** With `logOperations`: slapd's log of connections and operations (BIND, SRCH …) so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * A real OpenLDAP server (Debian's slapd, which .ci/run installs) on a free loopback port, with a
 * throw-away directory in a temporary folder.
 */
export async function startSlapd(options: { logOperations?: boolean } = {}): Promise<Slapd> {
  const program = installedProgram(
    ['/usr/sbin/slapd', '/usr/local/sbin/slapd', '/usr/local/libexec/slapd'],
    'slapd ldap-utils',
  );
  const dir = await mkdtemp(join(tmpdir(), 'grantgate-slapd-'));
  await mkdir(join(dir, 'data'));
  const config = join(dir, 'slapd.conf');
  await writeFile(
    config,
    `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile ${dir}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "${LDAP_SUFFIX}"
rootdn "${LDAP_ADMIN.dn}"
rootpw ${LDAP_ADMIN.password}
directory ${dir}/data
maxsize 10485760
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
`,
  );
  const port = await findFreePort();
  const url = `ldap://127.0.0.1:${port}`;
  // -d: stay in the foreground (a child of the test process); 0 prints nothing, 256 (stats) one line
  // per connection and operation, which tests read to see whether a request reached the directory.
  const { stderr, stop } = await startDaemon({
    name: 'slapd',
    program,
    args: ['-f', config, '-h', `${url}/`, '-d', options.logOperations ? '256' : '0'],
    dir,
    stderr: options.logOperations,
    ready: async () => {
      const client = new Client({ url, connectTimeout: 500 });
      await client.bind(LDAP_ADMIN.dn, LDAP_ADMIN.password);
      await client.unbind();
      return true;
    },
  });
  return { url, log: stderr, stop };
}

export interface DirectoryUser {
  uid: string;
  cn: string;
  password: string;
  groups: string[];
  attributes?: Record<string, string>;
  disabled?: boolean;
}

const personDn = (uid: string) => `${new DN().addPairRDN('uid', uid).toString()},ou=people,${LDAP_SUFFIX}`;

/** Writes people under ou=people and their groups (groupOfNames) under ou=groups. */
export async function populateDirectory(url: string, users: DirectoryUser[]): Promise<void> {
  const client = new Client({ url });
  await client.bind(LDAP_ADMIN.dn, LDAP_ADMIN.password);
  try {
    await client.add(LDAP_SUFFIX, {
      objectClass: ['dcObject', 'organization'],
      dc: 'grantgate',
      o: 'grantgate',
    });
    for (const ou of ['people', 'groups', 'services']) {
      await client.add(`ou=${ou},${LDAP_SUFFIX}`, { objectClass: 'organizationalUnit', ou });
    }
    await client.add(`cn=gateway,ou=services,${LDAP_SUFFIX}`, {
      objectClass: ['inetOrgPerson'],
      cn: 'gateway',
      sn: 'gateway',
      userPassword: 'service-secret',
    });
    for (const user of users) {
      await client.add(personDn(user.uid), {
        objectClass: ['inetOrgPerson'],
        uid: user.uid,
        cn: user.cn,
        sn: user.cn,
        userPassword: user.password,
        ...(user.disabled ? { employeeType: 'disabled' } : {}),
        ...user.attributes,
      });
    }
    const groups = [...new Set(users.flatMap((user) => user.groups))];
    for (const group of groups) {
      const members = users.filter((user) => user.groups.includes(group)).map((user) => personDn(user.uid));
      await client.add(`cn=${group},ou=groups,${LDAP_SUFFIX}`, {
        objectClass: 'groupOfNames',
        cn: group,
        member: members,
      });
    }
  } finally {
    await client.unbind();
  }
}
