/** The paragraph every `npm run db:import` prints about row security, before its `Next:` line. */
export const ROW_SECURITY_NOTE = [
  'Row security: npm run security:migration enables and forces PostgreSQL row-level security on every table and',
  'lists those whose rows the declarations restrict (a global filter, a scope, a filtered grant); on the others it',
  'checks the verbs of gateway requests only. Other clients of this database (any role but a superuser or one with',
  'BYPASSRLS, the tables\' owner included) then read and write no row of the restricted tables: see README, "Other clients of the same database".',
];
