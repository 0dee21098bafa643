import { type AuthProvider, type AuthProviderOptions, type AuthUser } from '../auth-provider.js';
import { DEMO_PASSWORD, DEMO_USERS } from './demo-users.js';
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
    if (this.options.seedDemoUsers) {
      const existing = new Set((await this.store.list()).map((user) => user.id));
      for (const user of DEMO_USERS) {
        if (!existing.has(user.id)) await this.store.addUser({ ...user, password: DEMO_PASSWORD });
      }
    }
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
