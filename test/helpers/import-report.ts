/** The paragraph every `npm run db:import` prints about row security, before its `Next:` line. */
export const ROW_SECURITY_NOTE = [
  'Row security: npm run security:migration enables and forces PostgreSQL row-level security on each table',
  'whose rows the declarations restrict (a global filter, a scope, a filtered grant) and lists them; the others',
  'stay as they are. Other clients of this database (any role but a superuser or one with BYPASSRLS, the',
  `tables' owner included) then read and write no row of those tables: see README, "Other clients of the same database".`,
];
