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
import { runProjectCli } from '../helpers/project-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');
// Inside the project and its tsconfig's `include` (a dot-folder would not be), so the written classes
// compile with its decorator settings when the gateway loads them.
const OUT = `test/imported-${randomBytes(4).toString('hex')}`;

/**
 * A team's database with what real schemas hold (SPEC §9): an enum (also as an array), a domain with
 * a CHECK, text and enum arrays, exact numerics, a self-reference, a name that collides after
 * pluralisation (`staff`), circular foreign keys (project ⇄ task), a composite key (assignment), a
 * foreign key of two columns, a range-partitioned table, a tsvector column and a view; the
 * constraints and indexes a team writes (PostgreSQL's default names, `on delete cascade`, its own
 * index names, a unique constraint, a partial and an expression index, a CHECK); two tenants' rows.
 */
const TEAM_SCHEMA = `
  create type stage as enum ('new', 'active', 'done');
  create domain effort as numeric(5, 1) check (value >= 0);
  create table region (id int generated always as identity primary key, name text not null,
    parent_id int references region (id), code text unique, label text not null default 'it''s unnamed');
  create table staff (id serial primary key, full_name varchar(80) not null, client_id int not null,
    region_id int not null references region (id) on delete cascade, active boolean not null default true,
    hired_at timestamptz, search tsvector, skills text[] not null default '{}', unique (client_id, full_name));
  create index staff_by_region on staff (region_id);
  create unique index staff_one_active_name on staff (full_name) where active;
  create index staff_active_hired on staff (active, hired_at desc);
  create table project (id serial primary key, name text not null, client_id int not null,
    stage stage not null default 'new', budget numeric(12, 2) check (budget >= 0), lead_task_id int);
  create table task (id serial primary key, title text not null, client_id int not null,
    project_id int not null references project (id), estimate effort, tags stage[]);
  alter table project add foreign key (lead_task_id) references task (id) on delete set null;
  create unique index task_title_per_project on task (project_id, lower(title));
  create table assignment (staff_id int not null references staff (id), task_id int not null references task (id),
    client_id int not null, share numeric(3, 2) not null, primary key (staff_id, task_id));
  create table assignment_note (id serial primary key, staff_id int not null, task_id int not null,
    body text not null, client_id int not null,
    foreign key (staff_id, task_id) references assignment (staff_id, task_id) on delete cascade);
  create table reading (id int not null, taken_at timestamptz not null, value int not null, client_id int not null,
    primary key (id, taken_at)) partition by range (taken_at);
  create table reading_2025 partition of reading for values from ('2025-01-01') to ('2026-01-01');
  create table reading_2026 partition of reading for values from ('2026-01-01') to ('2027-01-01');
  create table note (id serial primary key, body text not null, client_id int not null,
    staff_id int references staff (id));
  create index note_staff_id_index on note (staff_id);
  create index note_body_lower on note (lower(body));
  create view busy_staff as select * from staff where active;

  insert into region (name, parent_id, code) values ('Europe', null, 'EU'), ('Alps', 1, 'ALP'), ('Andes', null, null);
  insert into staff (full_name, client_id, region_id, skills)
    values ('Ada', 1, 1, '{sql,ops}'), ('Bo', 2, 2, '{}'), ('Cy', 1, 3, '{"a b"}');
  insert into project (name, client_id, stage, budget) values ('Apollo', 1, 'active', 1000.50), ('Zeus', 2, 'new', null);
  insert into task (title, client_id, project_id, estimate, tags)
    values ('Plan', 1, 1, 2.5, '{new,active}'), ('Build', 1, 1, null, null), ('Other', 2, 2, 1, '{done}');
  update project set lead_task_id = 1 where id = 1;
  insert into assignment values (1, 1, 1, 0.50), (3, 2, 1, 1.00), (2, 3, 2, 0.25);
  insert into assignment_note (staff_id, task_id, body, client_id) values (1, 1, 'first', 1), (2, 3, 'other', 2);
  insert into reading values (1, '2025-06-01T00:00:00Z', 10, 1), (2, '2026-03-01T00:00:00Z', 20, 1),
    (3, '2026-04-01T00:00:00Z', 30, 2);
  insert into note (body, client_id, staff_id) values ('hello', 1, 1), ('hi', 2, 2), ('hey', 1, null);`;

const TABLES = ['region', 'staff', 'project', 'task', 'assignment', 'assignment_note', 'reading', 'note'];

/**
 * Everything of the team's schema grantgate could touch: columns, constraints, indexes, types,
 * partitions and rows (grantgate adds, changes and drops none of them).
 */
async function teamState(db: TestDatabase) {
  const query = async (sql: string) => (await db.sql.query(sql)).rows;
  const rows: Record<string, unknown[]> = {};
  for (const table of TABLES) rows[table] = await query(`select * from ${table} order by 1, 2`);
  return {
    columns: await query(
      `select table_name, column_name, data_type, udt_name, is_nullable, column_default, is_identity,
              is_generated, generation_expression
         from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
    ),
    constraints: await query(
      `select conrelid::regclass::text as table_name, conname, pg_get_constraintdef(oid) as definition
         from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`,
    ),
    indexes: await query(`select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`),
    types: await query(
      `select typname, typtype, pg_catalog.format_type(typbasetype, typtypmod) as base
         from pg_type where typnamespace = 'public'::regnamespace and typtype in ('e', 'd') order by 1`,
    ),
    partitions: await query(
      `select inhrelid::regclass::text as partition, pg_get_expr(c.relpartbound, c.oid) as bound
         from pg_inherits join pg_class c on c.oid = inhrelid where inhparent = 'reading'::regclass order by 1`,
    ),
    rows,
  };
}

/** A CLI of the project on the team's database; `domain` is DOMAIN (the import writes elsewhere). */
const run = (script: string, db: TestDatabase, domain: string, ...args: string[]) =>
  runProjectCli(script, args, { databaseUrl: db.url, env: { DOMAIN: domain } });

let db: TestDatabase;
let before: Awaited<ReturnType<typeof teamState>>;
let gateway: GatewayProcess;
let url: string;
let imported: { stdout: string };

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  await db.sql.query(TEAM_SCHEMA);
  before = await teamState(db);
  imported = await run('src/tools/cli/import-schema.ts', db, 'domain', '--out', OUT);
  expect(imported).toMatchObject({ code: 0, stderr: '' });
  // The README's worked example: declare who may do what, then write the policies.
  const declarations = join(ROOT, OUT, 'declare-security.ts');
  const declared = await readFile(declarations, 'utf8');
  await writeFile(
    declarations,
    declared.replace("rolePermission('reader',", "rolePermission('tenant');\n    rolePermission('reader',"),
  );
  // An imported domain brings no demo users: the team adds its own, as the start banner says.
  for (const args of [
    ['sa', '--roles', 'sa'],
    ['u1', '--roles', 'tenant', '--attr', 'clientId=1'],
  ]) {
    const added = await run(
      'src/tools/cli/auth-users.ts',
      db,
      OUT,
      'user',
      'add',
      args[0]!,
      '--password',
      'p',
      ...args.slice(1),
    );
    expect(added).toMatchObject({ code: 0, stderr: '' });
  }
  const policies = await run('src/tools/cli/create-security-migration.ts', db, OUT);
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
  it('maps every table, leaves out what it cannot serve, says why, and names the acting foreign keys', () => {
    expect(imported.stdout).toContain(
      [
        'Mapped 8 table(s) and 1 view(s) into',
        '  assignment → Assignment',
        '  assignment_note → AssignmentNote',
        '  note → Note',
        '  project → Project',
        '  reading → Reading',
        '  region → Region',
        '  staff → Staff',
        '  task → Task',
        '  busy_staff → BusyStaff (a view: read-only, by key id; writable if declared @WritableView())',
        "  enum stage → Stage ('new' as NEW, 'active' as ACTIVE, 'done' as DONE)",
        'Relations, both ways (to-one ← its inverse to-many):',
        '  task.project ← project.tasks',
        '  region.parent ← region.regionsByParent',
        '  staff.region ← region.staff',
        '  assignment.staff ← staff.assignments',
        '  note.staff ← staff.notes',
        '  assignment.task ← task.assignments',
        '  project.leadTask ← task.projects',
        '  assignmentNote.assignment ← assignment.assignmentNotes (by its columns staffId, taskId)',
        '  assignment joins Staff and Task: each has a to-many field of the other through it',
        "Served in PostgreSQL's text form (GraphQL scalar Textual, filtered by isNull only):",
        '  staff.search: type tsvector has no GraphQL scalar',
        '  busy_staff.search: type tsvector has no GraphQL scalar',
        'Kept as they are, and acting under no row security (a delete through the API reaches rows its caller may not see):',
        '  assignment_note.staff_id, task_id → assignment: on delete cascade',
        '  project.lead_task_id → task: on delete set null',
        '  staff.region_id → region: on delete cascade',
      ]
        .join('\n')
        .replace('Mapped 8 table(s) and 1 view(s) into', `Mapped 8 table(s) and 1 view(s) into ${OUT}:`),
    );
  });

  it('writes classes that match the tables: db:migration:create finds nothing to create', async () => {
    const created = await run('src/tools/cli/create-migration.ts', db, OUT);
    expect(created).toMatchObject({
      code: 0,
      stderr: '',
      stdout: 'The entities match the migrations: nothing to create.\n',
    });
    expect(
      (await readdir(join(ROOT, OUT, 'migrations'))).filter((file) => file.startsWith('Migration')),
    ).toEqual([expect.stringMatching(/_row_security\.ts$/)]);
  });

  it('serves every table to the superuser with the counts of the database', async () => {
    const result = await gql(
      'sa',
      `{ busyStaffListCount regionsCount staffListCount projectsCount tasksCount assignmentsCount assignmentNotesCount
         readingsCount notesCount readings { id } assignments { share } }`,
    );
    expect(result.errors).toBeUndefined();
    const counts = await db.sql.query(
      TABLES.map((table) => `select '${table}' as t, count(*)::int as n from ${table}`).join(' union all '),
    );
    expect(Object.fromEntries(counts.rows.map((row: { t: string; n: number }) => [row.t, row.n]))).toEqual({
      region: 3,
      staff: 3,
      project: 2,
      task: 3,
      assignment: 3,
      assignment_note: 2,
      reading: 3,
      note: 3,
    });
    expect(result.data).toMatchObject({
      regionsCount: 3,
      staffListCount: 3,
      projectsCount: 2,
      tasksCount: 3,
      assignmentsCount: 3,
      assignmentNotesCount: 2,
      readingsCount: 3,
      notesCount: 3,
      // The view, read-only, over every tenant's active staff.
      busyStaffListCount: 3,
    });
    // The partitioned table is one entity over both partitions.
    expect((result.data!.readings as unknown[]).length).toBe(3);
    expect((result.data!.assignments as unknown[]).length).toBe(3);
  });

  it('serves each shape as the database holds it: enums, domains, arrays, numerics, keys, references', async () => {
    const result = await gql(
      'sa',
      `{ staff(id: 1) { fullName skills region { name code label parent { name } } }
         staffList(orderBy: [{ id: ASC }]) { skills }
         project(id: 1) { stage budget leadTask { title project { name } } }
         tasks(orderBy: [{ id: ASC }]) { title estimate tags }
         assignment(staffId: 3, taskId: 2) { share staff { fullName } task { title } }
         missing: assignment(staffId: 3, taskId: 1) { share }
         assignmentNotes(orderBy: [{ id: ASC }]) { staffId taskId body }
         reading(id: 2, takenAt: "2026-03-01T00:00:00.000Z") { value } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      staff: {
        fullName: 'Ada',
        skills: ['sql', 'ops'],
        region: { name: 'Europe', code: 'EU', label: "it's unnamed", parent: null },
      },
      staffList: [{ skills: ['sql', 'ops'] }, { skills: [] }, { skills: ['a b'] }],
      project: {
        stage: 'ACTIVE',
        budget: '1000.50',
        leadTask: { title: 'Plan', project: { name: 'Apollo' } },
      },
      tasks: [
        { title: 'Plan', estimate: '2.5', tags: ['NEW', 'ACTIVE'] },
        { title: 'Build', estimate: null, tags: null },
        { title: 'Other', estimate: '1.0', tags: ['DONE'] },
      ],
      assignment: { share: '1.00', staff: { fullName: 'Cy' }, task: { title: 'Build' } },
      missing: null,
      assignmentNotes: [
        { staffId: 1, taskId: 1, body: 'first' },
        { staffId: 2, taskId: 3, body: 'other' },
      ],
      reading: { value: 20 },
    });
  });

  it('keeps a tenant to its own rows, nested relations and counts included', async () => {
    const result = await gql(
      'u1',
      `{ busyStaffListCount staffListCount projectsCount tasksCount assignmentsCount assignmentNotesCount readingsCount notesCount
         regionsCount staffList(orderBy: [{ id: ASC }]) { fullName region { name } }
         notes { body staff { fullName } } assignments { staff { fullName } task { title } }
         other: assignment(staffId: 2, taskId: 3) { share } }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      staffListCount: 2,
      projectsCount: 1,
      tasksCount: 2,
      assignmentsCount: 2,
      assignmentNotesCount: 1,
      readingsCount: 2,
      notesCount: 2,
      // The view has the tenant column: the tenant filter covers it like a table.
      busyStaffListCount: 2,
      // Regions have no tenant column: shared by all tenants, as the starting declarations say.
      regionsCount: 3,
      staffList: [
        { fullName: 'Ada', region: { name: 'Europe' } },
        { fullName: 'Cy', region: { name: 'Andes' } },
      ],
      notes: [
        { body: 'hello', staff: { fullName: 'Ada' } },
        { body: 'hey', staff: null },
      ],
      assignments: [
        { staff: { fullName: 'Ada' }, task: { title: 'Plan' } },
        { staff: { fullName: 'Cy' }, task: { title: 'Build' } },
      ],
      other: null,
    });
  });

  it('round-trips a create, an update and a delete, and the database shows each', async () => {
    const created = await gql(
      'u1',
      `mutation { createTask(input: { title: "Ship", clientId: 1, projectId: 1, estimate: "3.5", tags: [DONE, NEW] })
         { id title estimate tags project { name } } }`,
    );
    expect(created.errors).toBeUndefined();
    const task = created.data!.createTask as { id: string };
    expect(task).toEqual({
      id: expect.any(String),
      title: 'Ship',
      estimate: '3.5',
      tags: ['DONE', 'NEW'],
      project: { name: 'Apollo' },
    });
    const id = Number(task.id);
    const taskRow = () =>
      db.sql.query('select title, client_id, project_id, estimate, tags::text from task where id = $1', [id]);
    expect((await taskRow()).rows).toEqual([
      { title: 'Ship', client_id: 1, project_id: 1, estimate: '3.5', tags: '{done,new}' },
    ]);
    const updated = await gql(
      'u1',
      'mutation($id: ID!) { updateTask(id: $id, input: { title: "Shipped", tags: [] }) { title tags } }',
      { id },
    );
    expect(updated).toEqual({ status: 200, data: { updateTask: { title: 'Shipped', tags: [] } } });
    expect((await taskRow()).rows).toEqual([
      { title: 'Shipped', client_id: 1, project_id: 1, estimate: '3.5', tags: '{}' },
    ]);
    // A row of the composite key, addressed by both its columns.
    const assigned = await gql(
      'u1',
      `mutation($id: ID!) { createAssignment(input: { staffId: "1", taskId: $id, clientId: 1, share: "0.75" }) { share } }`,
      { id },
    );
    expect(assigned).toEqual({ status: 200, data: { createAssignment: { share: '0.75' } } });
    const reassigned = await gql(
      'u1',
      'mutation($id: ID!) { updateAssignment(staffId: 1, taskId: $id, input: { share: "0.80" }) { share } }',
      { id },
    );
    expect(reassigned).toEqual({ status: 200, data: { updateAssignment: { share: '0.80' } } });
    expect(
      (await db.sql.query('select share from assignment where staff_id = 1 and task_id = $1', [id])).rows,
    ).toEqual([{ share: '0.80' }]);
    expect(
      await gql('u1', 'mutation($id: ID!) { deleteAssignment(staffId: 1, taskId: $id) }', { id }),
    ).toEqual({ status: 200, data: { deleteAssignment: true } });
    expect(await gql('u1', 'mutation($id: ID!) { deleteTask(id: $id) }', { id })).toEqual({
      status: 200,
      data: { deleteTask: true },
    });
    expect((await taskRow()).rows).toEqual([]);
    expect(
      (await db.sql.query('select count(*)::int as n from assignment where task_id = $1', [id])).rows,
    ).toEqual([{ n: 0 }]);
  });

  it("refuses a value the team's domain or CHECK forbids: BAD_USER_INPUT, nothing written", async () => {
    const untouched = await teamState(db);
    const negative = await gql(
      'u1',
      'mutation { createTask(input: { title: "Minus", clientId: 1, projectId: 1, estimate: "-1" }) { id } }',
    );
    expect(negative.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const overBudget = await gql(
      'u1',
      'mutation { updateProject(id: 1, input: { budget: "-5" }) { budget } }',
    );
    expect(overBudget.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify([negative, overBudget])).not.toMatch(/select|insert|update "|constraint|stack/i);
    expect(await teamState(db)).toEqual(untouched);
  });

  it("does not let a tenant touch another tenant's row: NOT_FOUND, nothing written", async () => {
    const foreign = (await db.sql.query("select id from note where body = 'hi'")).rows[0].id as number;
    const result = await gql(
      'u1',
      'mutation($id: ID!) { updateNote(id: $id, input: { body: "mine" }) { body } }',
      { id: foreign },
    );
    expect(result.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const byKey = await gql(
      'u1',
      'mutation { updateAssignment(staffId: 2, taskId: 3, input: { share: "0.99" }) { share } }',
    );
    expect(byKey.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await db.sql.query('select body from note where id = $1', [foreign])).rows).toEqual([
      { body: 'hi' },
    ]);
    expect(
      (await db.sql.query('select share from assignment where staff_id = 2 and task_id = 3')).rows,
    ).toEqual([{ share: '0.25' }]);
  });

  it("leaves the team's tables, constraints, indexes, types, partitions and rows as they were", async () => {
    expect(await teamState(db)).toEqual(before);
  });
});

describe('running the import again', () => {
  it('refuses to overwrite an earlier import without --force, and writes nothing', async () => {
    const before = await readFile(join(ROOT, OUT, 'staff.entity.ts'), 'utf8');
    const again = await run('src/tools/cli/import-schema.ts', db, 'domain', '--out', OUT);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr: `${OUT}/ already holds an imported domain; run again with -- --force to replace its entity classes (declare-security.ts and migrations/ are kept)\n`,
    });
    expect(await readFile(join(ROOT, OUT, 'staff.entity.ts'), 'utf8')).toBe(before);
  });

  it('with --force rewrites the classes and keeps the edited declarations and the migrations', async () => {
    const again = await run('src/tools/cli/import-schema.ts', db, 'domain', '--out', OUT, '--force');
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
      const result = await run('src/tools/cli/import-schema.ts', db, 'domain', '--out', foreign);
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
