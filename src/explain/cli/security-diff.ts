/**
 * `npm run security:diff -- [<git-rev>] [--rows] [--user <id> …] [--json]`: what the declarations in
 * the working tree change, per entity and role, from those at a revision (default `HEAD`): verbs,
 * hidden columns, grants, filters (by label, and a rule whose condition changed), stamps, scopes and
 * coverage. What a reviewer reads in a pull request that touches declare-security.ts. Needs no
 * database: both revisions are compiled against the working tree's entities. With `--rows` (the
 * domain's demo users) or `--user` (users the auth provider knows), it also opens the database and
 * prints, per user and entity, the change in the rows read. `--json` prints `{ from, to, changes }`
 * (and `rows`).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type AuthUser } from '../../../auth-providers/auth-provider.js';
import { type CompiledPolicy } from '../../../security/system/compiled-policy.js';
import { compilePolicy } from '../../../security/system/policy-compiler.js';
import { declareSecurity, type SecurityPolicy } from '../../../security/system/policy.js';
import { policyDiff, policyDiffText } from '../../../security/system/policy-diff.js';
import { compileSecurityModel } from '../../../security/system/security-model.js';
import { loadConfigOrExit } from '../../config.js';
import { declarationsFileOf, type Domain, domainPath } from '../../domain.js';
import { loadServedDomain, reportingCliErrors } from '../../tools/cli/with-database.js';
import { openDatabase } from '../../db/database.js';
import { discoverMetadata } from '../../../security/database/security-migrations.js';
import { createLogger } from '../../logger.js';
import { assembleCliGateway } from './cli-gateway.js';
import { visibleRowChanges, visibleRowChangesText } from '../visible-row-changes.js';

const { values, positionals } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rows: { type: 'boolean', default: false },
    user: { type: 'string', multiple: true },
  },
  allowPositionals: true,
});
if (positionals.length > 1) {
  console.error('usage: npm run security:diff -- [<git-rev>] [--rows] [--user <id> …] [--json]');
  process.exit(2);
}
const revision = positionals[0] ?? 'HEAD';

const config = loadConfigOrExit();
const domain = await loadServedDomain(config);
if (domain) {
  const file = declarationsFileOf(domain);
  await reportingCliErrors(
    async () => {
      const metadata = discoverMetadata(domain);
      const compile = (policy: SecurityPolicy) => compilePolicy(policy, metadata);
      const source = declarationsAt(revision, file);
      const beforePolicy = source
        ? await loadDeclarations(source, domainPath(domain.folder))
        : declareSecurity(() => {});
      const before: CompiledPolicy = compile(beforePolicy);
      const changes = policyDiff(before, compile(domain.policy));
      const rows =
        values.rows || values.user ? await rowChanges(domain, beforePolicy, values.user) : undefined;
      if (values.json) {
        const result = {
          from: revision,
          to: 'working tree',
          changes,
          ...(rows ? { rows: rows.changes } : {}),
        };
        console.log(JSON.stringify(result, null, 2));
      } else {
        if (!source) console.log(`${file} does not exist at ${revision}: all of it is new.`);
        console.log(policyDiffText(changes));
        if (rows) console.log(visibleRowChangesText(rows.changes, rows.users));
      }
    },
    undefined,
    file,
  );
}

/**
 * The change in the rows each user reads, on the database the configuration names (or the embedded
 * one): the demo users, or the users named, as the auth provider knows them.
 */
async function rowChanges(domain: Domain, beforePolicy: SecurityPolicy, ids: string[] | undefined) {
  const log = createLogger({ ...config, logLevel: 'warn' });
  const database = await openDatabase(config, log, { holder: 'security:diff', share: true });
  try {
    const { gateway, auth, orm, model } = await assembleCliGateway(config, domain, database.url, log);
    try {
      const users: AuthUser[] = [];
      for (const id of ids ?? []) {
        const user = await auth.service.findUser(id);
        if (!user) {
          console.error(
            `security:diff: ${id}: the auth provider (${config.authProvider}) does not know this user`,
          );
          process.exit(1);
        }
        users.push(user);
      }
      if (!ids) users.push(...(domain.demoUsers?.users ?? []));
      const before = compileSecurityModel(beforePolicy, orm.getMetadata());
      return { users, changes: await visibleRowChanges(orm, before, model, users) };
    } finally {
      await gateway.stop();
    }
  } finally {
    await database.close();
  }
}

/** The declarations file's text at `revision`, or undefined when the file is not in it. */
function declarationsAt(rev: string, file: string): string | undefined {
  const root = domainPath('.');
  try {
    execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
      cwd: root,
      stdio: 'pipe',
    });
  } catch {
    console.error(`security:diff: ${rev} is not a revision of this repository`);
    process.exit(2);
  }
  try {
    return execFileSync('git', ['show', `${rev}:${file}`], { cwd: root, stdio: 'pipe', encoding: 'utf8' });
  } catch {
    return undefined;
  }
}

/**
 * Declarations from their text, loaded beside the domain's own file (so that its imports of the
 * entities resolve as they do there) under a name no one else uses, and removed again.
 */
async function loadDeclarations(source: string, folder: string): Promise<SecurityPolicy> {
  const path = join(folder, `.declare-security-${randomBytes(6).toString('hex')}.ts`);
  await writeFile(path, source);
  try {
    const module = (await import(pathToFileURL(path).href)) as { default: SecurityPolicy };
    return module.default;
  } finally {
    await rm(path, { force: true });
  }
}
