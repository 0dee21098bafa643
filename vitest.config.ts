import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships an ESM build (`module` field) and a CJS one (`main`). Node resolves the
    // libraries' `import 'graphql'` to the CJS build, Vite would give our code the ESM one, and two
    // copies of graphql cannot share a schema. One alias makes everything use Node's choice (deep
    // imports such as graphql/execution/collectFields.js name the CJS files already).
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    // Starts (or connects to) PostgreSQL once and builds a migrated, seeded template database;
    // each test file then works in its own clone, so files run in parallel.
    globalSetup: ['test/global-setup.ts'],
    // The tests never serve the served domain (db:import replaces it, and the suite must stay green):
    // in-process they name their domain, and the processes they start serve FIXTURE_DOMAIN
    // (test/helpers/fixture-domain.ts) unless told. A test that forgets fails on this missing folder.
    env: { DOMAIN: 'test/no-served-domain' },
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
