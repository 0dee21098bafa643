import { type DatabasePolicies } from '../../security/system/database-policies.js';

const listed = (tables: string[]) => (tables.length > 0 ? tables.join(', ') : 'none');

/**
 * Which tables the policies close and which they leave as they are, as the security CLIs print it:
 * row security on a table changes what every other client of the database reads (see
 * `restrictsRows` in security/system/database-policies.ts).
 */
export function rowSecuritySummary(plan: DatabasePolicies): string[] {
  return [
    `Row-level security, forced, on ${plan.tables.length} table(s) whose rows the declarations restrict: ${listed(plan.tables)}.`,
    '  Other clients of this database see no row of these: README, "Other clients of the same database", says how to let one in.',
    `No row-level security on ${plan.unrestrictedTables.length} table(s) no rule restricts, which every client reads as before: ${listed(plan.unrestrictedTables)}.`,
  ];
}
