/**
 * `npm run security:explain -- --user <id> [--entity <Entity>] [--compare <id>] [--json]`: what a user
 * may do with each entity and why — verbs, the rules that apply (by their intent comments), the row
 * predicate, and how many rows it admits, counted as that user with both layers on in a transaction
 * that is rolled back. `--roles r1,r2 --attr key=value …` explains a hypothetical user instead of one
 * the auth provider knows. `--json` prints one object (with --compare: `{"users": [a, b]}`).
 */
import { parseArgs } from 'node:util';
import { type AuthUser } from '../../../auth-providers/auth-provider.js';
import { loadConfigOrExit } from '../../config.js';
import { declarationsFileOf, loadDomain } from '../../domain.js';
import { openDatabase } from '../../db/database.js';
import { reportingCliErrors } from '../../tools/cli/with-database.js';
import { createLogger } from '../../logger.js';
import { assembleCliGateway } from './cli-gateway.js';
import { explanationText } from '../explain-text.js';
import { explainUser } from '../explain-user.js';

const USAGE =
  'usage: npm run security:explain -- --user <id> [--entity <Entity>] [--compare <id>] ' +
  '[--roles r1,r2 --attr key=value …] [--json]';

const { values } = parseArgs({
  options: {
    user: { type: 'string' },
    entity: { type: 'string', multiple: true },
    compare: { type: 'string' },
    roles: { type: 'string' },
    attr: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  },
});
if (!values.user) {
  console.error(USAGE);
  process.exit(2);
}

/** `--roles`/`--attr` describe a user without asking the provider: "what would this role see?". */
function hypotheticalUser(id: string): AuthUser | undefined {
  if (values.roles === undefined && !values.attr) return undefined;
  const attributes: Record<string, unknown> = {};
  for (const pair of values.attr ?? []) {
    const at = pair.indexOf('=');
    if (at < 1) {
      console.error(`--attr ${pair}: expected key=value`);
      process.exit(2);
    }
    attributes[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const roles = (values.roles ?? '')
    .split(',')
    .map((role) => role.trim())
    .filter(Boolean);
  return { id, name: null, roles, attributes };
}

const config = loadConfigOrExit();
const domain = await loadDomain(config.domain);
const log = createLogger({ ...config, logLevel: 'warn' });
const database = await openDatabase(config, log, { holder: 'security:explain', share: true });
try {
  await reportingCliErrors(
    async () => {
      const { gateway, auth, orm, model, requestContext } = await assembleCliGateway(
        config,
        domain,
        database.url,
        log,
      );
      try {
        const users: AuthUser[] = [];
        for (const id of [values.user!, ...(values.compare ? [values.compare] : [])]) {
          const user =
            (id === values.user ? hypotheticalUser(id) : undefined) ?? (await auth.service.findUser(id));
          if (!user) {
            console.error(
              `${id}: the auth provider (${config.authProvider}) does not know this user; use --roles and --attr to explain a hypothetical one`,
            );
            process.exitCode = 1;
            return;
          }
          users.push(user);
        }
        const unknown = (values.entity ?? []).filter(
          (name) => !model.securedEntities().some((meta) => meta.className === name),
        );
        if (unknown.length > 0) {
          console.error(
            `unknown entity ${unknown.join(', ')}; entities: ${model
              .securedEntities()
              .map((m) => m.className)
              .join(', ')}`,
          );
          process.exitCode = 1;
          return;
        }
        const context = { orm, model, databaseSecurity: requestContext.databaseSecurity };
        const explanations = [];
        for (const user of users)
          explanations.push(await explainUser(context, user, { entities: values.entity }));
        if (values.json) {
          console.log(
            JSON.stringify(explanations.length === 1 ? explanations[0] : { users: explanations }, null, 2),
          );
        } else {
          console.log(explanationText(users, explanations));
        }
      } finally {
        await gateway.stop();
      }
    },
    database.url,
    declarationsFileOf(domain),
  );
} finally {
  await database.close();
}
