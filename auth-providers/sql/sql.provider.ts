import {
  type AuthProvider,
  type AuthProviderOptions,
  AuthProviderRefusal,
  type AuthUser,
  DEMO_PASSWORD,
} from '../auth-provider.js';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from './password-hashing.js';
import { UserStore } from './user-store.js';

/**
 * Users, roles and attributes in the `auth` schema of the application database, or of
 * AUTH_DATABASE_URL; passwords hashed with argon2id. Administered with `npm run auth`.
 */
export class SqlAuthProvider implements AuthProvider {
  private readonly store: UserStore;

  constructor(private readonly options: AuthProviderOptions) {
    this.store = new UserStore(options.authDatabaseUrl ?? options.databaseUrl);
  }

  async init(): Promise<void> {
    await this.store.migrate();
    if (this.options.production) await this.refuseDemoPasswords();
    const existing = new Set((await this.store.list()).map((user) => user.id));
    for (const user of this.options.demoUsers) {
      if (!existing.has(user.id)) await this.store.addUser({ ...user, password: DEMO_PASSWORD });
    }
  }

  /**
   * Production does not start while a user can log in with the demo password: a database once served
   * with the demo (or seeded outside production) holds `admin`/`p` with the role `sa`, and `p` is in
   * the README. The served domain's own demo accounts are the exception: serving the demo in
   * production is serving a demo (the gateway warns of it). Each user costs one argon2 verification (about 17 ms of a core, four at a time on
   * libuv's pool): this provider keeps a team's own users, tens or hundreds (a directory of thousands
   * belongs in LDAP or Keycloak), so it adds well under a second or two to a production start.
   */
  private async refuseDemoPasswords(): Promise<void> {
    const users = await this.store.enabledPasswordHashes();
    const verified = await Promise.all(users.map((user) => verifyPassword(user.passwordHash, DEMO_PASSWORD)));
    const demo = new Set(this.options.demoAccounts);
    const withDemoPassword = users
      .filter((user, i) => verified[i] && !demo.has(user.id))
      .map((user) => user.id);
    if (withDemoPassword.length === 0) return;
    throw new AuthProviderRefusal(
      `NODE_ENV=production, and the demo password "${DEMO_PASSWORD}" still logs in as ${withDemoPassword.join(', ')}: ` +
        'give each a password of its own (npm run auth -- user set-password <id> --password <p>) or disable it (npm run auth -- user disable <id>)',
    );
  }

  /** Users are found by `id = $1`, text equality: `ALICE` and `alice ` are other (unknown) users. */
  normalizeUsername(username: string): string {
    return username;
  }

  async authenticate(username: string, password: string): Promise<AuthUser | null> {
    const credentials = await this.store.credentials(username);
    // Unknown users are checked against a dummy hash, so they take as long to refuse as a wrong password.
    const valid = await verifyPassword(credentials?.passwordHash ?? (await dummyPasswordHash()), password);
    if (!credentials || !valid || credentials.disabled) return null;
    if (needsRehash(credentials.passwordHash)) {
      await this.store.replaceHash(username, await hashPassword(password));
    }
    return this.findUser(username);
  }

  async findUser(id: string): Promise<AuthUser | null> {
    const [user] = await this.store.list(id);
    if (!user || user.disabled) return null;
    return { id: user.id, name: user.name, roles: user.roles, attributes: user.attributes };
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
