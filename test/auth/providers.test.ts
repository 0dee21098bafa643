import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JsonFileAuthProvider from '../../auth-providers/examples/json-file.provider.js';
import { hashPassword } from '../../auth-providers/sql/password-hashing.js';
import { SqlAuthProvider } from '../../auth-providers/sql/sql.provider.js';
import { UserStore } from '../../auth-providers/sql/user-store.js';
import { loadAuthProvider } from '../../src/auth/load-provider.js';
import { createTestDatabase } from '../helpers/test-database.js';
import { CONTRACT_USERS, describeAuthProviderContract } from './provider-contract.js';

describeAuthProviderContract('sql', async () => {
  const db = await createTestDatabase({ empty: true });
  const store = new UserStore(db.url);
  await store.migrate();
  for (const { disabled, ...user } of CONTRACT_USERS) {
    await store.addUser(user);
    if (disabled) await store.setDisabled(user.id, true);
  }
  await store.close();
  const provider = new SqlAuthProvider({
    databaseUrl: db.url,
    demoUsers: [],
    production: false,
    demoAccounts: [],
    env: {},
  });
  await provider.init();
  return {
    provider,
    async cleanup() {
      await provider.close();
      await db.drop();
    },
  };
});

describeAuthProviderContract('custom (JSON file, loaded through AUTH_PROVIDER)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'grantgate-users-'));
  const file = join(dir, 'users.json');
  const users = await Promise.all(
    CONTRACT_USERS.map(async ({ password, ...user }) => ({
      ...user,
      passwordHash: await hashPassword(password),
    })),
  );
  await writeFile(file, JSON.stringify(users));
  const provider = await loadAuthProvider('./auth-providers/examples/json-file.provider.ts', {
    databaseUrl: 'postgres://unused',
    demoUsers: [],
    production: false,
    demoAccounts: [],
    env: { AUTH_USERS_FILE: file },
  });
  if (!(provider instanceof JsonFileAuthProvider)) throw new Error('expected the example provider class');
  return { provider, cleanup: () => rm(dir, { recursive: true, force: true }) };
});
