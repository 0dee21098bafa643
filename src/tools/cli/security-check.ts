/**
 * `npm run security:check`: compares the row-level security policies in the database (DATABASE_URL,
 * or the embedded one) with the served domain's declare-security.ts and lists every drift: missing, extra or
 * different policies, and tables where RLS is off or not forced. Exit code 1 on any drift. It first
 * lists the tables that get row-level security and those that do not.
 * `-- --apply` replaces the database's policies with the declared ones (what the migrations do).
 * It needs the tables' owner (MIGRATION_DATABASE_URL when set): the comparison creates the declared
 * policies in a transaction it rolls back.
 */
import { policyStatements } from '../../../security/system/database-policies.js';
import { asMaintenance } from '../../db/maintenance.js';
import { policyDrift } from '../../../security/database/policy-drift.js';
import { runSql } from '../../db/raw-sql.js';
import {
  rowSecuritySummary,
  viewsOutsideRowSecurity,
} from '../../../security/database/row-security-summary.js';
import { declarationsFileOf } from '../../domain.js';
import { declaredPolicies } from '../../../security/database/security-migrations.js';
import { withDatabase } from './with-database.js';

await withDatabase(async (orm, domain) => {
  const plan = declaredPolicies(domain, orm.getMetadata());
  const drift = await policyDrift(orm, plan);
  // The verdict first; then what the policies mean for the tables and views (once the database answered).
  const summary = [...rowSecuritySummary(plan), ...(await viewsOutsideRowSecurity(orm.em.fork(), plan))];
  if (drift.length === 0) {
    console.log(
      `The database's policies match the declarations (${plan.policies.length} policies on ${plan.tables.length + plan.unrestrictedTables.length} tables, field writes checked on ${plan.fieldWrites.length}).`,
    );
    for (const line of summary) console.log(line);
    return;
  }
  console.log(`${drift.length} difference(s) between the database and ${declarationsFileOf(domain)}:`);
  for (const d of drift)
    console.log(
      `  ${d.kind}: ${d.table}${d.policy ? ` ${d.policy}` : ''}${d.detail ? ` — ${d.detail}` : ''}`,
    );
  for (const line of summary) console.log(line);
  if (process.argv.includes('--apply')) {
    await asMaintenance(orm, async (em) => {
      for (const statement of policyStatements(plan)) {
        await runSql(em, statement);
      }
    });
    console.log('Replaced them with the declared policies.');
    return;
  }
  console.log(
    'Run npm run db:migrate for pending migrations, npm run security:migration if the declarations changed, ' +
      'or npm run security:check -- --apply to restore the declared policies.',
  );
  process.exitCode = 1;
});
