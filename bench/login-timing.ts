/**
 * `npm run bench:login`: login latency, and whether a wrong password and an unknown user can be told
 * apart by response time. Runs AuthService.login (provider, argon2id, refresh token, JWT) against
 * DATABASE_URL or the embedded database, with a fresh client address per call so the throttle stays out.
 */
import { UserStore } from '../auth-providers/sql/user-store.js';
import { createAuth } from '../src/auth/create-auth.js';
import { loadConfig } from '../src/config.js';
import { DATA_DIR, openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';

const ROUNDS = 60;
const config = { ...loadConfig(), logLevel: 'warn' as const, authProvider: 'sql' };
const log = createLogger(config);
const database = await openDatabase(config, log);
const auth = await createAuth({ config, databaseUrl: database.url, dataDir: DATA_DIR, log });
const users = new UserStore(database.url);
await users.migrate();
const ids = Array.from({ length: ROUNDS }, (_, i) => `bench-login-${i}`);
for (const id of ids) {
  // Left disabled by an earlier run: enable again.
  await users
    .addUser({ id, roles: ['tenant'], attributes: { clientId: 1 }, password: 'right' })
    .catch(() => users.setDisabled(id, false));
}

const samples: Record<'valid' | 'wrong password' | 'unknown user', number[]> = {
  valid: [],
  'wrong password': [],
  'unknown user': [],
};
let address = 0;
async function time(kind: keyof typeof samples, username: string, password: string) {
  const started = performance.now();
  await auth.service
    .login(username, password, `10.0.${Math.floor(address / 250)}.${address++ % 250}`)
    .catch(() => {});
  samples[kind].push(performance.now() - started);
}
for (const id of ids) {
  // Interleaved, so drift in machine load affects all three alike.
  await time('wrong password', id, 'wrong');
  await time('unknown user', `${id}-nobody`, 'wrong');
  await time('valid', id, 'right');
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) * p)]!;
for (const [kind, values] of Object.entries(samples)) {
  console.log(
    `${kind.padEnd(15)} p50 ${percentile(values, 0.5).toFixed(1)} ms   p95 ${percentile(values, 0.95).toFixed(1)} ms   (${values.length} logins)`,
  );
}
const gap = percentile(samples['unknown user'], 0.5) - percentile(samples['wrong password'], 0.5);
console.log(`unknown user − wrong password, difference of medians: ${gap.toFixed(2)} ms`);

// The bench users stay, disabled, so they cannot be used to log in.
for (const id of ids) await users.setDisabled(id, true);
await users.close();
await auth.close();
await database.close();
