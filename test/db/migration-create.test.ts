import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { check, resolveConfig } from 'prettier';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { runProjectCli } from '../helpers/project-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DOMAIN = 'demo/northwind';
const MIGRATIONS = `${DOMAIN}/migrations`;

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * A migrated, seeded database that also holds what a team keeps beside grantgate's tables and no
 * entity maps: tables (one with a foreign key to a mapped table), a view, an enum, a function and a
 * schema of its own, next to grantgate's `auth` schema.
 */
async function databaseWithUnmappedObjects(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  await db.sql.query(`
    create type team_mood as enum ('calm', 'busy');
    create table team_ledger (id int primary key, mood team_mood not null, amount numeric(12, 2));
    create table team_shipper_note (id int primary key, shipper_id int not null references shipper (id), note text);
    create view team_busy as select id from team_ledger where mood = 'busy';
    create function team_total() returns numeric language sql as 'select sum(amount) from team_ledger';
    create schema team;
    create table team.audit (id bigint generated always as identity primary key, happened_at timestamptz);`);
  return db;
}

/** The team's tables, views, enum and function and the `auth` tables, by name and kind. */
async function teamObjects(db: TestDatabase) {
  const { rows } = await db.sql.query(`
    select n.nspname || '.' || c.relname || ':' || c.relkind::text as object
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where (n.nspname in ('team', 'auth') or c.relname like 'team_%') and c.relkind in ('r', 'v')
    union all select 'type ' || typname from pg_type where typname = 'team_mood'
    union all select 'function ' || proname from pg_proc where proname = 'team_total'
    order by 1`);
  return rows.map((row: { object: string }) => row.object);
}

/**
 * A folder holding a copy of the committed migrations and the prettier settings, where the command
 * writes its migration instead of the work tree.
 */
async function workspace(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'grantgate-migration-create-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, DOMAIN), { recursive: true });
  await cp(join(ROOT, MIGRATIONS), join(dir, MIGRATIONS), { recursive: true });
  await cp(join(ROOT, '.prettierrc.json'), join(dir, '.prettierrc.json'));
  return dir;
}

const createMigration = (db: TestDatabase, cwd: string, ...args: string[]) =>
  runProjectCli('src/tools/cli/create-migration.ts', args, {
    databaseUrl: db.url,
    cwd,
    env: { DOMAIN: join(ROOT, DOMAIN) },
  });

async function newMigrations(cwd: string): Promise<string[]> {
  const committed = new Set(await readdir(join(ROOT, MIGRATIONS)));
  return (await readdir(join(cwd, MIGRATIONS))).filter((file) => !committed.has(file));
}

const DROPS_OF_ANYTHING_BUT_COLUMNS = /drop (table|schema|view|type|function|materialized view)/i;

describe('npm run db:migration:create on a database holding objects no entity maps', () => {
  it('finds nothing to create when the mapped tables match, and touches nothing else', async () => {
    const db = await databaseWithUnmappedObjects();
    const cwd = await workspace();
    const before = await teamObjects(db);
    expect(before).toContain('auth.user:r');
    expect(before).toContain('team.audit:r');

    const result = await createMigration(db, cwd);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('The entities match the migrations: nothing to create.\n');
    expect(result.code).toBe(0);
    expect(await newMigrations(cwd)).toEqual([]);
    expect(await teamObjects(db)).toEqual(before);
  });

  it('writes only the mapped difference, formatted as lint wants it, with no drop', async () => {
    const db = await databaseWithUnmappedObjects();
    const cwd = await workspace();
    await db.sql.query('alter table shipper drop column phone');

    const result = await createMigration(db, cwd, 'shipper_phone');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [file] = await newMigrations(cwd);
    expect(file).toMatch(/^Migration\d+_shipper_phone\.ts$/);
    const source = await readFile(join(cwd, MIGRATIONS, file!), 'utf8');
    expect(source).toMatch(/alter table "shipper" add "phone" varchar\(30\) null;/);
    expect(source).not.toMatch(DROPS_OF_ANYTHING_BUT_COLUMNS);
    expect(source).not.toMatch(/team|auth/);
    const path = join(cwd, MIGRATIONS, file!);
    expect(await check(source, { ...(await resolveConfig(path)), filepath: path })).toBe(true);
    expect(await readFile(join(cwd, MIGRATIONS, 'index.ts'), 'utf8')).toContain(file!.replace(/\.ts$/, ''));
  });

  it('refuses a change that can lose data unless --allow-destructive', async () => {
    const db = await databaseWithUnmappedObjects();
    const cwd = await workspace();
    await db.sql.query(`
      alter table shipper add column team_rating int;
      alter table shipper alter column company_name type text;`);

    const refused = await createMigration(db, cwd);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      [
        'The entities differ from the database in ways that can lose data:',
        '  drop column shipper.team_rating',
        '  change column shipper.company_name from text to varchar(80)',
      ].join('\n'),
    );
    expect(await newMigrations(cwd)).toEqual([]);

    const allowed = await createMigration(db, cwd, '--allow-destructive');
    expect(allowed.code).toBe(0);
    const [file] = await newMigrations(cwd);
    const source = await readFile(join(cwd, MIGRATIONS, file!), 'utf8');
    expect(source).toMatch(/alter table "shipper" drop column "team_rating";/);
    expect(source).not.toMatch(DROPS_OF_ANYTHING_BUT_COLUMNS);
  });
});
