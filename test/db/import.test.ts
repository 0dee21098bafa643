import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { pino } from 'pino';
import { check, resolveConfig } from 'prettier';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MappedTablesMigrator } from '../../src/db/mapped-tables-migrator.js';
import { createOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { runProjectCli } from '../helpers/project-cli.js';
import { ROW_SECURITY_NOTE } from '../helpers/import-report.js';

const ROOT = resolve(import.meta.dirname, '../..');
// Inside the project, so the written classes compile with its tsconfig when the test loads them.
const OUT = `test/.imported-${randomBytes(4).toString('hex')}`;

let db: TestDatabase;
let run: { code: number | null; stdout: string; stderr: string };

/** A team's schema with what real ones hold, and one tenant column. */
const TEAM_SCHEMA = `
  create type mood as enum ('calm', 'busy');
  create table region (id int generated always as identity primary key, name text not null,
    parent_id int references region (id));
  create table staff (id serial primary key, full_name varchar(80) not null, client_id int not null,
    region_id int not null references region (id), salary numeric(10, 2), tags text[], doc jsonb, mood mood,
    photo bytea, search tsvector, active boolean not null default true, hired_at timestamptz, big bigint,
    name_upper text generated always as (upper(full_name)) stored);
  create table staff_skill (staff_id int references staff (id), skill text, primary key (staff_id, skill));
  create table badge (id serial primary key, code bytea not null, label text not null);
  create function badge_label() returns trigger language plpgsql as $$
    begin new.label := 'badge ' || new.id; return new; end $$;
  create trigger badge_label before insert on badge for each row execute function badge_label();
  create view busy_staff as select * from staff where mood = 'busy';
  create view staff_by_client as select client_id as id, id as staff_id, full_name from staff;
  create table measurement (id int, taken_at date not null, primary key (id, taken_at)) partition by range (taken_at);
  create table measurement_2026 partition of measurement for values from ('2026-01-01') to ('2027-01-01');`;

/** Some of the team's rows. */
const TEAM_DATA = `
  insert into region (name, parent_id) values ('Europe', null), ('Alps', 1);
  insert into staff (full_name, client_id, region_id, salary, tags, mood)
    values ('Ada', 1, 1, 100.50, '{a,b}', 'busy'), ('Bo', 2, 2, 200, null, 'calm');
  insert into staff_skill values (1, 'sql'), (2, 'ops');
  insert into measurement values (1, '2026-05-01');`;

/** The team's column definitions and rows, to show the import changed neither. */
async function teamState() {
  const tables = ['region', 'staff', 'staff_skill', 'badge', 'measurement'];
  const columns = await db.sql.query(
    `select table_name, column_name, data_type, is_nullable, column_default, is_identity, is_generated
       from information_schema.columns where table_schema = 'public' and table_name = any($1)
      order by table_name, ordinal_position`,
    [tables],
  );
  const rows: Record<string, unknown[]> = {};
  for (const table of tables) rows[table] = (await db.sql.query(`select * from ${table} order by 1, 2`)).rows;
  return { columns: columns.rows, rows };
}
let before: Awaited<ReturnType<typeof teamState>>;

beforeAll(async () => {
  db = await createTestDatabase({ empty: true });
  await db.sql.query(TEAM_SCHEMA);
  await db.sql.query(TEAM_DATA);
  before = await teamState();
  run = await runProjectCli('src/tools/cli/import-schema.ts', ['--out', OUT], { databaseUrl: db.url });
}, 120_000);

afterAll(async () => {
  await rm(join(ROOT, OUT), { recursive: true, force: true });
  await db?.drop();
});

describe('npm run db:import', () => {
  it('says what it mapped and what it left out, and why', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        `Mapped 5 table(s) and 2 view(s) into ${OUT}:`,
        '  badge → Badge',
        '  measurement → Measurement',
        '  region → Region',
        '  staff → Staff',
        '  staff_skill → StaffSkill',
        '  busy_staff → BusyStaff (a view: read-only, by key id; writable if declared @WritableView())',
        // Its `id` is the staff's client_id: no key.
        '  staff_by_client → StaffByClient (a view: read-only, listed and counted, no key to fetch a row by)',
        "  enum mood → Mood ('calm' as CALM, 'busy' as BUSY)",
        'Relations, both ways (to-one ← its inverse to-many):',
        '  region.parent ← region.regionsByParent',
        '  staff.region ← region.staff',
        '  staffSkill.staff ← staff.staffSkills',
        'Filled by a trigger on insert, so optional on create:',
        '  badge.label (trigger badge_label)',
        "Served in PostgreSQL's text form (GraphQL scalar Textual, filtered by isNull only):",
        '  staff.search: type tsvector has no GraphQL scalar',
        '  busy_staff.search: type tsvector has no GraphQL scalar',
        "Views: read-only, under rules of their own, not their tables': a view without the tenant column is read by",
        'sa alone until declare-security.ts shares it (it lists them apart).',
        ...ROW_SECURITY_NOTE,
        `Next: edit ${OUT}/declare-security.ts, then npm run security:migration, npm run security:check and DOMAIN=${OUT} npm start.`,
        '',
      ].join('\n'),
    );
  });

  it('only reads: the definitions and rows of the tables are as the team left them', async () => {
    expect(await teamState()).toEqual(before);
  });

  it('writes the classes in the project style, formatted, and a starting declarations file', async () => {
    const files = (await readdir(join(ROOT, OUT), { recursive: true })).sort();
    expect(files).toEqual([
      'badge.entity.ts',
      'busy-staff.entity.ts',
      'declare-security.ts',
      'entities.ts',
      'enums.ts',
      'index.ts',
      'measurement.entity.ts',
      'migrations',
      'migrations/index.ts',
      'region.entity.ts',
      'staff-by-client.entity.ts',
      'staff-skill.entity.ts',
      'staff.entity.ts',
    ]);
    for (const file of files.filter((name) => name.endsWith('.ts'))) {
      const path = join(ROOT, OUT, file);
      const source = await readFile(path, 'utf8');
      expect(await check(source, { ...(await resolveConfig(path)), filepath: path })).toBe(true);
    }
    // A required column a trigger fills is optional on create, and left out of the insert.
    expect(await readFile(join(ROOT, OUT, 'badge.entity.ts'), 'utf8')).toContain(
      '@TextColumn({ filledByTrigger: true })\n  label?: string | null;',
    );
    const staff = await readFile(join(ROOT, OUT, 'staff.entity.ts'), 'utf8');
    expect(staff).toContain("@Entity({ tableName: 'staff' })");
    expect(staff).toContain('@StringColumn({ length: 80 })\n  fullName!: string;');
    // The foreign key as the table has it (PostgreSQL's name, its actions, no index), so migrations leave it be.
    expect(staff).toContain(
      [
        '@ToOne(() => Region, {',
        '    nullable: false,',
        "    foreignKey: { name: 'staff_region_id_fkey', onDelete: 'no action', onUpdate: 'no action', index: false },",
        '  })',
        '  region!: Rel<Region>;',
      ].join('\n'),
    );
    expect(staff).toContain('@BooleanColumn({ default: true })\n  active!: boolean;');
    expect(staff).toContain(
      '@DecimalColumn({ nullable: true, precision: 10, scale: 2 })\n  salary?: string | null;',
    );
    expect(staff).toContain(
      "@EnumColumn(Mood, { nullable: true, nativeEnumName: 'mood' })\n  mood?: string | null;",
    );
    expect(staff).toContain(
      "@TextColumn({ nullable: true, generated: 'upper((full_name)::text) stored' })\n  nameUpper?: string | null;",
    );
    const region = await readFile(join(ROOT, OUT, 'region.entity.ts'), 'utf8');
    expect(region).toContain("@GeneratedId({ identity: 'identity' })\n  id!: number;");
    expect(region).toContain('@TextColumn()\n  name!: string;');
    expect(region).toContain(
      [
        '@ToOne(() => Region, {',
        '    nullable: true,',
        "    foreignKey: { name: 'region_parent_id_fkey', onDelete: 'no action', onUpdate: 'no action', index: false },",
        '  })',
        '  parent?: Rel<Region> | null;',
      ].join('\n'),
    );
    const skill = await readFile(join(ROOT, OUT, 'staff-skill.entity.ts'), 'utf8');
    expect(skill).toMatch(
      /@ToOne\(\(\) => Staff, \{\n {4}nullable: false,\n {4}primary: true,\n {4}foreignKey: \{\n/,
    );
    expect(skill).toContain('@TextColumn({ primary: true })\n  skill!: string;');
    // A composite key of a partitioned table, its date column mapped now.
    const measurement = await readFile(join(ROOT, OUT, 'measurement.entity.ts'), 'utf8');
    expect(measurement).toContain('@IntColumn({ primary: true })\n  id!: number;');
    expect(measurement).toContain('@DateColumn({ primary: true })\n  takenAt!: string;');
    const security = await readFile(join(ROOT, OUT, 'declare-security.ts'), 'utf8');
    expect(security).toMatch(
      /tenantFilter\('clientId', \(currentUser\) => \(\{ clientId: currentUser\.clientId \}\), \{\s+rolesNotFiltered: \['sa'\],?\s+\}\);/,
    );
    expect(security).toContain('sharedByAllTenants(Badge, Measurement, Region);');
    expect(security).toContain("scope(StaffSkill, 'staff');");
  });

  it('writes classes that map the tables exactly: columns left out of the API stay declared', async () => {
    const { entities } = (await import(join(ROOT, OUT, 'entities.ts'))) as { entities: (new () => object)[] };
    const orm = await MikroORM.init(
      createOrmOptions({ clientUrl: db.url, queryLog: new QueryLog(pino({ level: 'silent' })), entities }),
    );
    try {
      const migrator = orm.migrator as MappedTablesMigrator;
      expect(migrator).toBeInstanceOf(MappedTablesMigrator);
      const diff = await migrator.pendingSchemaDifference();
      expect(Object.keys(diff.newTables)).toEqual([]);
      const changes = Object.fromEntries(
        Object.values(diff.changedTables).map((table) => [
          table.name,
          {
            added: Object.keys(table.addedColumns),
            changed: Object.keys(table.changedColumns),
            removed: Object.keys(table.removedColumns).sort(),
          },
        ]),
      );
      expect(changes.region ?? { added: [], changed: [], removed: [] }).toEqual({
        added: [],
        changed: [],
        removed: [],
      });
      const none = { added: [], changed: [], removed: [] };
      expect(changes.region ?? none).toEqual(none);
      expect(changes.staff ?? none).toEqual(none);
      // A composite key maps exactly too: its key columns, one of them a relation.
      expect(changes.staff_skill ?? none).toEqual(none);
      expect(changes.measurement ?? none).toEqual(none);
    } finally {
      await orm.close();
    }
  });
});

describe('an import that cannot finish', () => {
  it('writes nothing and says why in one line: a schema holding a name its introspection cannot read', async () => {
    const odd = await createTestDatabase({ empty: true });
    const out = `test/.imported-odd-${randomBytes(4).toString('hex')}`;
    try {
      await odd.sql.query(`${TEAM_SCHEMA}; create table "Odd ""Table" (id serial primary key);`);
      const served = await readFile(join(ROOT, 'domain/index.ts'), 'utf8');
      const refused = await runProjectCli('src/tools/cli/import-schema.ts', ['--out', out], {
        databaseUrl: odd.url,
      });
      expect(refused).toMatchObject({
        code: 1,
        stdout: '',
        stderr: 'Could not read the schema: invalid name syntax. Nothing was written.\n',
      });
      await expect(readdir(join(ROOT, out))).rejects.toThrow(/ENOENT/);
      expect(await readFile(join(ROOT, 'domain/index.ts'), 'utf8')).toBe(served);
      // No staging folder is left behind either.
      expect((await readdir(join(ROOT, 'test'))).filter((name) => name.startsWith(out.slice(5)))).toEqual([]);
    } finally {
      await rm(join(ROOT, out), { recursive: true, force: true });
      await odd.drop();
    }
  });
});
