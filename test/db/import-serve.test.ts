import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type GatewayProcess,
  loginAs,
  postGraphQL,
  startGatewayProcess,
} from '../helpers/gateway-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const ROOT = resolve(import.meta.dirname, '../..');
// Inside the project and its tsconfig's `include` (a dot-folder would not be), so the written classes
// compile with its decorator settings when the gateway loads them.
const OUT = `test/imported-${randomBytes(4).toString('hex')}`;

/** A team's database: two tenants' rows, a self-reference, and tables the import must leave out. */
const TEAM_SCHEMA = `
  create table region (id int generated always as identity primary key, name text not null,
    parent_id int references region (id));
  create table staff (id serial primary key, full_name varchar(80) not null, client_id int not null,
    region_id int not null references region (id), active boolean not null default true,
    hired_at timestamptz, search tsvector);
  create table note (id serial primary key, body text not null, client_id int not null,
    staff_id int references staff (id));
  create view busy_staff as select * from staff where active;
  insert into region (name, parent_id) values ('Europe', null), ('Alps', 1), ('Andes', null);
  insert into staff (full_name, client_id, region_id) values ('Ada', 1, 1), ('Bo', 2, 2), ('Cy', 1, 3);
  insert into note (body, client_id, staff_id) values ('hello', 1, 1), ('hi', 2, 2), ('hey', 1, null);`;

/** Every table and column of the team's schema (grantgate adds none), and the team's rows. */
async function teamState(db: TestDatabase) {
  const columns = await db.sql.query(
    `select table_name, column_name, data_type, is_nullable, column_default, is_identity, is_generated
       from information_schema.columns where table_schema = 'public'
      order by table_name, ordinal_position`,
  );
  const rows: Record<string, unknown[]> = {};
  for (const table of ['region', 'staff', 'note'])
    rows[table] = (await db.sql.query(`select * from ${table} order by id`)).rows;
  return { columns: columns.rows, rows };
}

/** A CLI of the project on the team's database; `domain` is DOMAIN (the import writes elsewhere). */
function run(script: string, db: TestDatabase, domain: string, ...args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = execFile(
      process.execPath,
      [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), script, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: db.url, MIGRATION_DATABASE_URL: '', DOMAIN: domain },
      },
      (_error, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }),
    );
  });
}

let db: TestDatabase;
let before: Awaited<ReturnType<typeof teamState>>;
let gateway: GatewayProcess;
let url: string;
let imported: { stdout: string };

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  await db.sql.query(TEAM_SCHEMA);
  before = await teamState(db);
  imported = await run('src/db/cli/import-schema.ts', db, 'domain', '--out', OUT);
  expect(imported).toMatchObject({ code: 0, stderr: '' });
  // The README's worked example: declare who may do what, then write the policies.
  const declarations = join(ROOT, OUT, 'declare-security.ts');
  const declared = await readFile(declarations, 'utf8');
  await writeFile(
    declarations,
    declared.replace("rolePermission('reader',", "rolePermission('tenant');\n    rolePermission('reader',"),
  );
  const policies = await run('src/db/cli/create-security-migration.ts', db, OUT);
  expect(policies.stderr).toBe('');
  expect(policies.stdout).toMatch(/^Created test\/imported-\w+\/migrations\/Migration\d+_row_security\.ts$/m);
  gateway = startGatewayProcess({ DATABASE_URL: db.url, DOMAIN: OUT, JWT_SECRET: 'x'.repeat(32) });
  url = await gateway.url;
}, 180_000);

afterAll(async () => {
  await gateway?.stop();
  await rm(join(ROOT, OUT), { recursive: true, force: true });
  await db?.drop();
});

const gql = async (user: string, query: string, variables?: Record<string, unknown>) =>
  postGraphQL(url, query, { token: (await loginAs(url, user)).accessToken, variables });

describe('the gateway on an imported database', () => {
  it('maps the tables, leaves out the column and the view it cannot serve, and says why', () => {
    expect(imported.stdout).toContain('  note → Note\n  region → Region\n  staff → Staff\n');
    expect(imported.stdout).toContain('  staff.search: type tsvector has no GraphQL mapping\n');
    expect(imported.stdout).toContain('  busy_staff: a view: read-only, not imported\n');
  });

  it('serves every table to the superuser with the counts of the database', async () => {
    const result = await gql(
      'sa',
      '{ regionsCount staffListCount notesCount regions { id } staffList { id } notes { id } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toMatchObject({ regionsCount: 3, staffListCount: 3, notesCount: 3 });
    expect((result.data!.notes as unknown[]).length).toBe(3);
  });

  it('keeps a tenant to its own rows, nested relations included', async () => {
    const result = await gql(
      'u1',
      '{ staffListCount staffList(orderBy: [{ id: ASC }]) { fullName region { name } } notes { body staff { fullName } } }',
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      staffListCount: 2,
      staffList: [
        { fullName: 'Ada', region: { name: 'Europe' } },
        { fullName: 'Cy', region: { name: 'Andes' } },
      ],
      notes: [
        { body: 'hello', staff: { fullName: 'Ada' } },
        { body: 'hey', staff: null },
      ],
    });
  });

  it('round-trips a create, an update and a delete, and the database shows each', async () => {
    const created = await gql(
      'u1',
      'mutation { createNote(input: { body: "new", clientId: 1, staffId: 1 }) { id body } }',
    );
    expect(created.errors).toBeUndefined();
    const id = Number((created.data!.createNote as { id: string }).id);
    expect(
      (await db.sql.query('select body, client_id, staff_id from note where id = $1', [id])).rows,
    ).toEqual([{ body: 'new', client_id: 1, staff_id: 1 }]);
    const updated = await gql(
      'u1',
      'mutation($id: ID!) { updateNote(id: $id, input: { body: "newer" }) { body } }',
      { id },
    );
    expect(updated.data).toEqual({ updateNote: { body: 'newer' } });
    expect((await db.sql.query('select body from note where id = $1', [id])).rows).toEqual([
      { body: 'newer' },
    ]);
    const deleted = await gql('u1', 'mutation($id: ID!) { deleteNote(id: $id) }', { id });
    expect(deleted.data).toEqual({ deleteNote: true });
    expect((await db.sql.query('select count(*)::int as n from note where id = $1', [id])).rows).toEqual([
      { n: 0 },
    ]);
  });

  it("does not let a tenant touch another tenant's row: NOT_FOUND, nothing written", async () => {
    const foreign = (await db.sql.query("select id from note where body = 'hi'")).rows[0].id as number;
    const result = await gql(
      'u1',
      'mutation($id: ID!) { updateNote(id: $id, input: { body: "mine" }) { body } }',
      { id: foreign },
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await db.sql.query('select body from note where id = $1', [foreign])).rows).toEqual([
      { body: 'hi' },
    ]);
  });

  it("leaves the team's table definitions and rows as they were", async () => {
    expect(await teamState(db)).toEqual(before);
  });
});

describe('running the import again', () => {
  it('refuses to overwrite an earlier import without --force, and writes nothing', async () => {
    const before = await readFile(join(ROOT, OUT, 'staff.entity.ts'), 'utf8');
    const again = await run('src/db/cli/import-schema.ts', db, 'domain', '--out', OUT);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: `${OUT}/ already holds an imported domain; run again with -- --force to replace its entity classes (declare-security.ts and migrations/ are kept)\n`,
    });
    expect(await readFile(join(ROOT, OUT, 'staff.entity.ts'), 'utf8')).toBe(before);
  });

  it('with --force rewrites the classes and keeps the edited declarations and the migrations', async () => {
    const again = await run('src/db/cli/import-schema.ts', db, 'domain', '--out', OUT, '--force');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Kept ${OUT}/declare-security.ts: add rules for any new entity.\n`);
    expect(await readFile(join(ROOT, OUT, 'declare-security.ts'), 'utf8')).toContain(
      "rolePermission('tenant');",
    );
    expect(
      (await readdir(join(ROOT, OUT, 'migrations'))).some((file) => file.endsWith('_row_security.ts')),
    ).toBe(true);
  });

  it('refuses a folder holding files it did not write', async () => {
    const foreign = `${OUT}-foreign`;
    await mkdir(join(ROOT, foreign));
    await writeFile(join(ROOT, foreign, 'notes.txt'), 'mine');
    try {
      const result = await run('src/db/cli/import-schema.ts', db, 'domain', '--out', foreign);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `${foreign}/ holds files db:import did not write; choose another --out or move them away\n`,
      );
      expect(await readdir(join(ROOT, foreign))).toEqual(['notes.txt']);
    } finally {
      await rm(join(ROOT, foreign), { recursive: true, force: true });
    }
  });
});
