import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlAuthProvider } from '../../auth-providers/sql/sql.provider.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

let appDb: TestDatabase;
let authDb: TestDatabase;
beforeAll(async () => {
  [appDb, authDb] = await Promise.all([
    createTestDatabase({ empty: true }),
    createTestDatabase({ empty: true }),
  ]);
});
afterAll(async () => {
  await appDb?.drop();
  await authDb?.drop();
});

/** `npm run auth -- …` as an operator types it, against AUTH_DATABASE_URL. */
async function auth(...args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      [
        join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        '--tsconfig',
        join(ROOT, 'tsconfig.json'),
        join(ROOT, 'src/tools/cli/auth-users.ts'),
        ...args,
      ],
      { env: { ...process.env, DATABASE_URL: appDb.url, AUTH_DATABASE_URL: authDb.url } },
    );
    return { code: 0, output: (stdout + stderr).trim() };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, output: (failed.stdout + failed.stderr).trim() };
  }
}

const provider = () =>
  new SqlAuthProvider({
    databaseUrl: appDb.url,
    authDatabaseUrl: authDb.url,
    demoUsers: [],
    production: false,
    demoAccounts: [],
    env: {},
  });

describe('npm run auth (SQL provider administration)', () => {
  it('adds a user with roles and typed attributes into AUTH_DATABASE_URL, who can then log in', async () => {
    const added = await auth(
      'user',
      'add',
      's2',
      '--password',
      'secret',
      '--roles',
      'sales,tenant',
      '--attr',
      'clientId=2',
      '--attr',
      'region=British Isles',
      '--name',
      'Sales Two',
    );
    expect(added).toEqual({ code: 0, output: 'added user s2' });
    expect(await auth('user', 'list', 's2')).toEqual({
      code: 0,
      output: 's2  roles: [sales, tenant]  attributes: {"region":"British Isles","clientId":2}',
    });
    const sql = provider();
    await sql.init();
    expect(await sql.authenticate('s2', 'secret')).toEqual({
      id: 's2',
      name: 'Sales Two',
      roles: ['sales', 'tenant'],
      attributes: { clientId: 2, region: 'British Isles' },
    });
    await sql.close();
    // The auth data went to AUTH_DATABASE_URL, not to the application database.
    expect((await appDb.sql.query(`select to_regclass('auth."user"') as t`)).rows[0].t).toBeNull();
  });

  it('changes passwords, roles and state', async () => {
    await auth('user', 'add', 'ops', '--password', 'one');
    expect(await auth('user', 'set-password', 'ops', '--password', 'two')).toEqual({
      code: 0,
      output: 'set the password of ops\nended the sessions of ops',
    });
    expect(await auth('user', 'grant', 'ops', '--roles', 'manager,tenant')).toEqual({
      code: 0,
      output: 'granted manager, tenant to ops\nended the sessions of ops',
    });
    expect(await auth('user', 'revoke', 'ops', '--roles', 'tenant')).toEqual({
      code: 0,
      output: 'revoked tenant from ops\nended the sessions of ops',
    });
    const sql = provider();
    expect(await sql.authenticate('ops', 'one')).toBeNull();
    expect(await sql.authenticate('ops', 'two')).toMatchObject({ roles: ['manager'] });
    expect(await auth('user', 'disable', 'ops')).toEqual({
      code: 0,
      output: 'disabled ops\nended the sessions of ops',
    });
    expect(await sql.authenticate('ops', 'two')).toBeNull();
    expect(await auth('user', 'enable', 'ops')).toEqual({ code: 0, output: 'enabled ops' });
    expect(await sql.authenticate('ops', 'two')).toMatchObject({ id: 'ops' });
    await sql.close();
  });

  it.each([
    [['user', 'add', 's2', '--password', 'x'], 'user s2 already exists'],
    [['user', 'grant', 'nobody', '--roles', 'x'], 'no user nobody'],
    [['user', 'add', 'nopass'], 'user add needs --password'],
    [['user', 'grant', 's2'], 'user grant needs --roles a,b'],
    [
      ['user', 'add', 'bad', '--password', 'x', '--attr', 'novalue'],
      '--attr takes key=value (got "novalue")',
    ],
    [['user', 'frob'], /^unknown command "user frob"\nusage:/],
  ])('refuses %o with exit code 1 and one clear message', async (args, message) => {
    const result = await auth(...(args as string[]));
    expect(result.code).toBe(1);
    expect(result.output).toMatch(message);
  });
});
