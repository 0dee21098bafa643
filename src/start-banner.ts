import { DEMO_PASSWORD } from '../auth-providers/auth-provider.js';
import { SUPERUSER_ROLE } from '../security/system/identity.js';
import { demoUsersToCreate } from './auth/create-auth.js';
import { type Config } from './config.js';
import { type Domain } from './domain.js';

/**
 * What `npm start` prints once it listens: where, how to log in and what to try. With the SQL provider
 * and a domain that brings demo users, it logs in as one of them; otherwise (an imported domain: its
 * database gets no demo users) it says how to add the first user.
 */
export function startBanner(url: string, config: Config, domain: Domain): string {
  const sql = config.authProvider === 'sql';
  const demoUsers = sql ? demoUsersToCreate(config, domain.demoUsers) : [];
  const [username, password] =
    demoUsers.length > 0 ? [domain.demoUsers!.loginAs, DEMO_PASSWORD] : ['<id>', '<password>'];
  const addUser =
    sql && demoUsers.length === 0
      ? [
          `  No demo users are created here. Add users (with the same DATABASE_URL), the first as superuser:`,
          `    npm run auth -- user add <id> --password <password> --roles ${SUPERUSER_ROLE}`,
          `  (other roles and attributes: --roles a,b --attr clientId=1; see npm run auth -- user)`,
        ]
      : [];
  return [
    '',
    `  grantgate is ready at ${url}`,
    ...addUser,
    '  Open it in a browser for Apollo Sandbox, or log in:',
    `    curl -s ${url} -H 'content-type: application/json' \\`,
    `      -d '{"query":"mutation { login(username: \\"${username}\\", password: \\"${password}\\") { accessToken } }"}'`,
    '  then send the token as  Authorization: Bearer <accessToken>  with',
    `      ${JSON.stringify({ query: domain.exampleQuery ?? '{ me { id roles attributes } }' })}`,
    ...(demoUsers.length > 0
      ? [`  Demo users (password ${DEMO_PASSWORD}): ${demoUsers.map((user) => user.id).join(', ')}`]
      : []),
    '',
  ].join('\n');
}
