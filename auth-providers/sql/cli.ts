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
import { loadConfigOrExit } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { MAX_PASSWORD_LENGTH } from './password-hashing.js';
import { UserStore, UserStoreError } from './user-store.js';

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

function parseCommand(argv: string[]) {
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
    await command(store);
  } finally {
    await store.close();
    await database.close();
  }
} catch (error) {
  if (!(error instanceof UsageError || error instanceof UserStoreError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
