/**
 * The domain the tests serve in the processes they start (gateway, CLIs): the engine tests' Northwind
 * copy. Never the served domain (`domain/`): an import replaces that, and the suite must stay green.
 */
export const FIXTURE_DOMAIN = 'test/fixtures/northwind';
