/**
 * The domain the tests serve in the processes they start (gateway, CLIs): the Northwind demo
 * (demo/northwind/), the one `npm start` serves out of the box. Never the served domain (`domain/`):
 * `npm run db:import` replaces that, and the suite must stay green; the import never touches demo/.
 */
export const FIXTURE_DOMAIN = 'demo/northwind';
