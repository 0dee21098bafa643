/**
 * `npm run auth -- <command>`: manages the users of the SQL auth provider in the `auth` schema of
 * DATABASE_URL (or AUTH_DATABASE_URL, or the embedded database).
 *
 *   user add <id> --password <p> [--name <n>] [--roles a,b] [--attr key=value …]
 *   user set-password <id> --password <p>
 *   user grant <id> --roles a,b        user revoke <id> --roles a,b
 *   user disable <id>                  user enable <id>
 *   user list [<id>]
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { MAX_PASSWORD_LENGTH } from '../../../auth-providers/sql/password-hashing.js';
import { UserStore, UserStoreError } from '../../../auth-providers/sql/user-store.js';
import { RefreshTokenStore } from '../../auth/refresh-token-store.js';
import { type Config, loadConfigOrExit } from '../../config.js';
import { unreachableDatabase } from '../../db/connection-failure.js';
import { openDatabase } from '../../db/database.js';
import { createLogger } from '../../logger.js';

const USAGE = `usage: npm run auth -- user <add|set-password|grant|revoke|disable|enable|list> [<id>] [options]
  user add <id> --password <p> [--name <n>] [--roles a,b] [--attr key=value ...]
  user set-password <id> --password <p>
  user grant <id> --roles a,b          user revoke <id> --roles a,b
  user disable <id>                    user enable <id>
  user list [<id>]`;

class UsageError extends Error {}

/** `--attr clientId=2` is the number 2, `--attr vip=true` a boolean, anything else a string. */
export function parseAttribute(text: string): [string, unknown] {
  const separator = text.indexOf('=');
  if (separator <= 0) throw new UsageError(`--attr takes key=value (got "${text}")`);
  const [key, value] = [text.slice(0, separator), text.slice(separator + 1)];
  if (/^-?\d+(\.\d+)?$/.test(value)) return [key, Number(value)];
  if (value === 'true' || value === 'false') return [key, value === 'true'];
  return [key, value];
}

async function announce(done: string, work: Promise<void>) {
  await work;
  console.log(done);
}

/**
 * After these changes the user's sessions must not go on: a new password shuts out whoever held the
 * old one, a disable shuts out the user, and new roles are taken by a new login rather than left to
 * sessions that may have been stolen. (`enable` and `add` start nothing that could be ended.)
 */
const ENDS_SESSIONS = new Set(['set-password', 'disable', 'grant', 'revoke']);

/**
 * Ends every refresh-token family of `id`, in the `auth` schema where the gateway keeps them (that
 * of the tables' owner: MIGRATION_DATABASE_URL, or DATABASE_URL).
 */
async function endSessions(config: Config, databaseUrl: string, id: string) {
  const pool = new pg.Pool({ connectionString: config.migrationDatabaseUrl ?? databaseUrl, max: 1 });
  try {
    const sessions = new RefreshTokenStore(
      pool,
      config.refreshTokenTtlSeconds,
      config.refreshTokenMaxAgeSeconds,
    );
    await sessions.migrate();
    await sessions.revokeUserFamilies(id);
    console.log(`ended the sessions of ${id}`);
  } finally {
    await pool.end();
  }
}

function parseCommand(argv: string[]): { run: (store: UserStore) => Promise<void>; endsSessionsOf?: string } {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      password: { type: 'string' },
      name: { type: 'string' },
      roles: { type: 'string' },
      attr: { type: 'string', multiple: true },
    },
  });
  const [noun, verb, id] = positionals;
  if (noun !== 'user' || !verb) throw new UsageError(USAGE);
  const roles = (values.roles ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  const needId = () => {
    if (!id) throw new UsageError(`user ${verb} needs a user id\n${USAGE}`);
    return id;
  };
  const needPassword = () => {
    if (!values.password) throw new UsageError(`user ${verb} needs --password`);
    if (values.password.length > MAX_PASSWORD_LENGTH)
      throw new UsageError(`--password is longer than ${MAX_PASSWORD_LENGTH}`);
    return values.password;
  };
  const needRoles = () => {
    if (roles.length === 0) throw new UsageError(`user ${verb} needs --roles a,b`);
    return roles;
  };
  const run = commandFor(verb, id, values, roles, { needId, needPassword, needRoles });
  return { run, endsSessionsOf: ENDS_SESSIONS.has(verb) ? needId() : undefined };
}

function commandFor(
  verb: string,
  id: string | undefined,
  values: { name?: string; attr?: string[] },
  roles: string[],
  need: { needId(): string; needPassword(): string; needRoles(): string[] },
): (store: UserStore) => Promise<void> {
  const { needId, needPassword, needRoles } = need;
  switch (verb) {
    case 'add':
      return (store: UserStore) =>
        announce(
          `added user ${id}`,
          store.addUser({
            id: needId(),
            name: values.name ?? null,
            password: needPassword(),
            roles,
            attributes: Object.fromEntries((values.attr ?? []).map(parseAttribute)),
          }),
        );
    case 'set-password':
      return (store: UserStore) =>
        announce(`set the password of ${id}`, store.setPassword(needId(), needPassword()));
    case 'grant':
      return (store: UserStore) =>
        announce(`granted ${roles.join(', ')} to ${id}`, store.grant(needId(), needRoles()));
    case 'revoke':
      return (store: UserStore) =>
        announce(`revoked ${roles.join(', ')} from ${id}`, store.revoke(needId(), needRoles()));
    case 'disable':
    case 'enable':
      return (store: UserStore) =>
        announce(`${verb}d ${id}`, store.setDisabled(needId(), verb === 'disable'));
    case 'list':
      return async (store: UserStore) => {
        for (const user of await store.list(id)) {
          const state = user.disabled ? ' (disabled)' : '';
          console.log(
            `${user.id}${state}  roles: [${user.roles.join(', ')}]  attributes: ${JSON.stringify(user.attributes)}`,
          );
        }
      };
    default:
      throw new UsageError(`unknown command "user ${verb}"\n${USAGE}`);
  }
}

try {
  const command = parseCommand(process.argv.slice(2));
  const config = loadConfigOrExit();
  const log = createLogger({ ...config, logLevel: 'warn' });
  const database = await openDatabase(config, log);
  const store = new UserStore(config.authDatabaseUrl ?? database.url);
  try {
    await store.migrate();
    await command.run(store);
    if (command.endsSessionsOf) await endSessions(config, database.url, command.endsSessionsOf);
  } finally {
    await store.close();
    await database.close();
  }
} catch (error) {
  const unreachable = unreachableDatabase(error);
  if (unreachable) console.error(unreachable);
  else if (error instanceof UsageError || error instanceof UserStoreError) console.error(error.message);
  else throw error;
  process.exitCode = 1;
}
