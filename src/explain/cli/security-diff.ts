/**
 * `npm run security:diff -- [<git-rev>] [--json]`: what the declarations in the working tree change,
 * per entity and role, from those at a revision (default `HEAD`): verbs, hidden columns, grants,
 * filters (by label, and a rule whose condition changed), stamps, scopes and coverage. What a reviewer
 * reads in a pull request that touches declare-security.ts. Needs no database: both revisions are
 * compiled against the working tree's entities. `--json` prints `{ from, to, changes }`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { compilePolicy, type CompiledPolicy } from '../../../security/system/compiled-policy.js';
import { type SecurityPolicy } from '../../../security/system/policy.js';
import { policyDiff, policyDiffText } from '../../../security/system/policy-diff.js';
import { compileSecurityModel } from '../../../security/system/security-model.js';
import { loadConfigOrExit } from '../../config.js';
import { declarationsFileOf, domainPath } from '../../domain.js';
import { loadServedDomain, reportingCliErrors } from '../../db/cli/with-database.js';
import { discoverMetadata } from '../../db/security-migrations.js';

const { values, positionals } = parseArgs({
  options: { json: { type: 'boolean', default: false } },
  allowPositionals: true,
});
if (positionals.length > 1) {
  console.error('usage: npm run security:diff -- [<git-rev>] [--json]');
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
      const compile = (policy: SecurityPolicy) => compilePolicy(compileSecurityModel(policy, metadata));
      const source = declarationsAt(revision, file);
      const before: CompiledPolicy = source
        ? compile(await loadDeclarations(source, domainPath(domain.folder)))
        : { roles: [], rules: {}, entities: {} };
      const changes = policyDiff(before, compile(domain.policy));
      if (values.json) console.log(JSON.stringify({ from: revision, to: 'working tree', changes }, null, 2));
      else {
        if (!source) console.log(`${file} does not exist at ${revision}: all of it is new.`);
        console.log(policyDiffText(changes));
      }
    },
    undefined,
    file,
  );
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
