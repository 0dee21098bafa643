import { readFileSync } from 'node:fs';
import { type AuthProvider, type AuthProviderOptions, type AuthUser } from '../auth-provider.js';
import { dummyPasswordHash, verifyPassword } from '../sql/password-hashing.js';

interface FileUser extends AuthUser {
  /** An argon2id hash, e.g. from `node -e "require('@node-rs/argon2').hash('secret').then(console.log)"`. */
  passwordHash: string;
  disabled?: boolean;
}

/**
 * An example of a custom provider: users kept in a JSON file (AUTH_USERS_FILE). Point
 * AUTH_PROVIDER at this module (or your own built the same way) and the gateway uses it:
 *
 *   AUTH_PROVIDER=./auth-providers/examples/json-file.provider.ts AUTH_USERS_FILE=./users.json npm start
 *
 * A provider is a class whose constructor takes AuthProviderOptions and that implements
 * authenticate(); findUser() lets refresh pick up changed roles, normalizeUsername() says which
 * spellings of a name are one account (for the login throttle), init() and close() are optional.
 */
export default class JsonFileAuthProvider implements AuthProvider {
  private readonly users: Map<string, FileUser>;

  constructor(options: AuthProviderOptions) {
    const file = options.env.AUTH_USERS_FILE;
    if (!file) throw new Error('the JSON file provider needs AUTH_USERS_FILE');
    const users = JSON.parse(readFileSync(file, 'utf8')) as FileUser[];
    this.users = new Map(users.map((user) => [user.id, user]));
  }

  /** Users are found by exact id (a Map key): the login throttle counts each spelling as its own. */
  normalizeUsername(username: string): string {
    return username;
  }

  async authenticate(username: string, password: string): Promise<AuthUser | null> {
    const user = this.users.get(username);
    // Same work for unknown users as for known ones, so response times do not tell them apart.
    const valid = await verifyPassword(user?.passwordHash ?? (await dummyPasswordHash()), password);
    return user && valid && !user.disabled ? this.publicView(user) : null;
  }

  async findUser(id: string): Promise<AuthUser | null> {
    const user = this.users.get(id);
    return user && !user.disabled ? this.publicView(user) : null;
  }

  private publicView({ id, name, roles, attributes }: FileUser): AuthUser {
    return { id, name, roles, attributes };
  }
}
