import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../auth-providers/sql/user-store.js';
import { postGraphQL, startGatewayProcess } from '../helpers/gateway-process.js';
import { runProjectCli } from '../helpers/project-cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A team's small database: two tenants' artists and their albums. */
const TEAM_SCHEMA = `
  create table artist (artist_id int primary key, name text not null, client_id int not null);
  create table album (album_id int primary key, title text not null, client_id int not null,
    artist_id int not null references artist (artist_id));
  insert into artist values (1, 'Accept', 1), (2, 'Aerosmith', 2);
  insert into album values (1, 'Balls to the Wall', 1, 1), (2, 'Restless and Wild', 1, 1), (3, 'Big Ones', 2, 2);`;

const OWNER_PASSWORD = 'a password of its own';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  cleanups.push(() => db.drop());
  await db.sql.query(TEAM_SCHEMA);
  const users = new UserStore(db.url);
  await users.migrate();
  await users.addUser({ id: 'owner', roles: ['sa'], attributes: {}, password: OWNER_PASSWORD });
  await users.close();
});

const cli = (script: string, domain: string, ...args: string[]) =>
  runProjectCli(script, args, { databaseUrl: db.url, env: { DOMAIN: domain } });

/**
 * `db:import -- --out <folder>`, then the policies, the checks and `npm start` with DOMAIN=<folder>:
 * tsx compiles with tsconfig.json only the files its `include` names, and a folder outside the project
 * has no node_modules above it; the domain's files load the same wherever they are.
 */
describe.each([
  [
    'inside the project, outside tsconfig.json’s include',
    () => `test/.anywhere-${randomBytes(4).toString('hex')}`,
  ],
  ['outside the project', () => join(tmpdir(), `grantgate-anywhere-${randomBytes(4).toString('hex')}`)],
])('a domain imported into a folder %s', (_where, folderName) => {
  const folder = folderName();
  const absolute = resolve(ROOT, folder);
  beforeAll(() => cleanups.push(() => rm(absolute, { recursive: true, force: true })));

  it('is written, gets its policies, and db:migration:create and security:check find it as declared', async () => {
    const imported = await cli('src/tools/cli/import-schema.ts', 'domain', '--out', folder);
    expect(imported).toMatchObject({ code: 0, stderr: '' });
    expect(imported.stdout).toMatch(/album → Album/);

    const policies = await cli('src/tools/cli/create-security-migration.ts', absolute);
    expect(policies).toMatchObject({ code: 0, stderr: '' });
    expect(
      (await readdir(join(absolute, 'migrations'))).some((file) => file.endsWith('_row_security.ts')),
    ).toBe(true);
    expect(await cli('src/tools/cli/migrate.ts', absolute)).toMatchObject({ code: 0, stderr: '' });
    expect(await cli('src/tools/cli/create-migration.ts', absolute)).toMatchObject({
      code: 0,
      stderr: '',
      stdout: 'The entities match the migrations: nothing to create.\n',
    });
    const check = await cli('src/tools/cli/security-check.ts', absolute);
    expect(check).toMatchObject({ code: 0, stderr: '' });
    expect(check.stdout).toMatch(/policies match the declarations/);
  }, 120_000);

  it('is served by npm start with DOMAIN=<folder>, relations and all, with the rows of the database', async () => {
    const gateway = startGatewayProcess({ DATABASE_URL: db.url, DOMAIN: absolute });
    cleanups.push(() => gateway.stop());
    const url = await gateway.url;
    const login = await postGraphQL(
      url,
      `mutation { login(username: "owner", password: "${OWNER_PASSWORD}") { accessToken } }`,
    );
    const token = (login.data?.login as { accessToken: string }).accessToken;
    const served = await postGraphQL(
      url,
      '{ albumsCount albums(orderBy: [{ albumId: ASC }]) { albumId title artist { name } } }',
      { token },
    );
    const { rows } = await db.sql.query(
      'select album_id as "albumId", title, name from album join artist using (artist_id) order by album_id',
    );
    expect(served).toEqual({
      status: 200,
      data: {
        albumsCount: rows.length,
        albums: rows.map(({ albumId, title, name }) => ({ albumId, title, artist: { name } })),
      },
    });
    expect(await gateway.stop()).toBe(0);
  }, 120_000);
});

describe('a gateway serving an imported domain', () => {
  let folder: string;
  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'grantgate-imported-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    expect(await cli('src/tools/cli/import-schema.ts', 'domain', '--out', folder)).toMatchObject({ code: 0 });
  }, 120_000);

  it.each(['demo', 'users'])(
    'with SEED=%s writes no demo user, and its banner says how to add the first user',
    async (seed) => {
      const team = await createTestDatabase({ empty: true });
      cleanups.push(() => team.drop());
      await team.sql.query(TEAM_SCHEMA);
      const gateway = startGatewayProcess({ DATABASE_URL: team.url, DOMAIN: folder, SEED: seed });
      const url = await gateway.url;
      expect((await team.sql.query('select count(*)::int as n from auth."user"')).rows[0].n).toBe(0);
      expect(await team.sql.query('select count(*)::int as n from album')).toMatchObject({
        rows: [{ n: 3 }],
      });
      const login = await postGraphQL(
        url,
        'mutation { login(username: "admin", password: "p") { accessToken } }',
      );
      expect(login.data).toBeNull();
      expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(await gateway.stop()).toBe(0);
      expect(gateway.output()).toContain('npm run auth -- user add <id> --password <password> --roles sa');
      expect(gateway.output()).not.toMatch(/Demo users|username: \\"s1\\"/);
    },
    120_000,
  );

  it('without DATABASE_URL says in one line that the domain needs its database, before starting one', async () => {
    const home = await mkdtemp(join(tmpdir(), 'grantgate-no-database-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    const gateway = startGatewayProcess({ DOMAIN: folder, LOG_LEVEL: 'fatal' }, home);
    expect(await gateway.exited).toBe(1);
    const lines = gateway.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `"msg":"could not start: DOMAIN ${relative(ROOT, folder)} is imported from a team's database and is served from it: set DATABASE_URL to that database`,
    );
    // No embedded PostgreSQL was created, and nothing was left behind.
    expect(existsSync(join(home, '.data/postgres'))).toBe(false);
  });
});
