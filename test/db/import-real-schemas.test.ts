import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lowerFirst, pluralize } from '../../src/api/entity-model.js';
import { type PlannedEntity, type PlannedMember, planEntities } from '../../src/tools/import/entity-plan.js';
import { introspect } from '../../src/tools/import/introspection.js';
import {
  type GatewayProcess,
  loginAs,
  postGraphQL,
  startGatewayProcess,
} from '../helpers/gateway-process.js';
import { runProjectCli } from '../helpers/project-cli.js';
import { chinookRepresentativeRule, loadRealSchema, type RealSchema } from '../helpers/real-schemas.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * SPEC §9 "Real schemas, first time": public sample databases nobody on the project wrote
 * (test/fixtures/real-schemas/README.md), imported as a team would, given a rule of their own, and
 * served: every table answers its count as SQL does, every foreign key is walked both ways, join
 * tables reach both sides, and the team's schemas are exactly as they were, apart from the policies.
 */
interface Sample {
  name: RealSchema;
  schemas: string[];
  /** declare-security.ts for the imported domain (`POLICY` is the path of security/system/policy.ts). */
  declarations: string;
  /** The users the team adds with `npm run auth -- user add`: id, roles, attributes. */
  users: { id: string; roles: string; attrs?: string[] }[];
  /** How many of its foreign keys are relations (single-column, to a single key). */
  foreignKeys: number;
  /** How many foreign keys it has of several columns, or to a column other than a single key. */
  columnReferences: number;
  /** How many views its schemas hold (materialized views aside). */
  views: number;
  /** Its join tables (a key of two foreign keys). */
  joinTables: string[];
  /**
   * A create, an update and a delete through the API by the superuser, each with the row SQL reads
   * afterwards (`$key`: the created row's key).
   */
  roundTrip: {
    create: string;
    created: Record<string, unknown>;
    update: string;
    updated: Record<string, unknown>;
    remove: string;
    row: string;
  };
  /** What the sample's filtered user must see: GraphQL counts and the SQL that counts the same rows. */
  rule: { user: string; counts: Record<string, string>; nested: string; nestedSql: string };
}

const CHINOOK: Sample = {
  name: 'chinook',
  schemas: ['public'],
  foreignKeys: 11,
  columnReferences: 0,
  views: 0,
  joinTables: ['playlist_track'],
  // Chinook's keys are the client's.
  roundTrip: {
    create: 'mutation { row: createGenre(input: { genreId: 900, name: "Chiptune" }) { key: genreId name } }',
    created: { genre_id: 900, name: 'Chiptune' },
    update: 'mutation { row: updateGenre(id: "$key", input: { name: "Bitpop" }) { key: genreId name } }',
    updated: { genre_id: 900, name: 'Bitpop' },
    remove: 'mutation { deleteGenre(id: "$key") }',
    row: 'select genre_id, name from genre where genre_id = $1',
  },
  declarations: chinookRepresentativeRule('POLICY'),
  users: [
    { id: 'root', roles: 'sa' },
    { id: 'jane', roles: 'rep', attrs: ['supportRep=3'] },
  ],
  rule: {
    user: 'jane',
    counts: {
      customersCount: 'select count(*) from customer where support_rep_id = 3',
      invoicesCount:
        'select count(*) from invoice join customer using (customer_id) where support_rep_id = 3',
      invoiceLinesCount: `select count(*) from invoice_line join invoice using (invoice_id)
        join customer using (customer_id) where support_rep_id = 3`,
      employeesCount: 'select count(*) from employee',
    },
    // Two levels down through inverse relations, from a shared row.
    nested:
      '{ employees(limit: 10) { customers(limit: 100) { invoices(limit: 10) { invoiceLines(limit: 20) { quantity } } } } }',
    nestedSql: `select count(*) from invoice_line join invoice using (invoice_id)
      join customer using (customer_id) where support_rep_id = 3`,
  },
};

const ADVENTUREWORKS: Sample = {
  name: 'adventureworks',
  schemas: ['person', 'humanresources', 'production', 'purchasing', 'sales'],
  foreignKeys: 89,
  columnReferences: 1,
  views: 19,
  joinTables: [
    'productdocument',
    'productinventory',
    'productmodelillustration',
    'productproductphoto',
    'productvendor',
    'countryregioncurrency',
    'personcreditcard',
    'salesorderheadersalesreason',
    'specialofferproduct',
  ],
  // The key comes from a sequence, modifieddate from a default, and name is a domain ("Name").
  roundTrip: {
    create:
      'mutation { row: createShift(input: { name: "Late", starttime: "22:00:00", endtime: "06:00:00" }) { key: shiftid name } }',
    created: { name: 'Late', starttime: '22:00:00', stamped: true },
    update: 'mutation { row: updateShift(id: "$key", input: { endtime: "07:00:00" }) { key: shiftid name } }',
    updated: { name: 'Late', starttime: '22:00:00', endtime: '07:00:00', stamped: true },
    remove: 'mutation { deleteShift(id: "$key") }',
    row: `select name, starttime::text, endtime::text, modifieddate is not null as stamped
            from humanresources.shift where shiftid = $1`,
  },
  declarations: `
    import { declareSecurity } from 'POLICY';

    export default declareSecurity(({ rolePermission, globalFilter }) => {
      // Staff read and write everything, but delete nothing.
      rolePermission('staff', { delete: false });
      // A territory's staff see only the rows of their sales territory.
      globalFilter('territory', (currentUser) => ({ territory: currentUser.territory }), {
        rolesNotFiltered: ['sa'],
      });
    });`,
  users: [
    { id: 'root', roles: 'sa' },
    { id: 'terry', roles: 'staff', attrs: ['territory=1'] },
  ],
  rule: {
    user: 'terry',
    counts: {
      customersCount: 'select count(*) from sales.customer where territoryid = 1',
      salesorderheadersCount: 'select count(*) from sales.salesorderheader where territoryid = 1',
      productsCount: 'select count(*) from production.product',
    },
    nested:
      '{ salesterritories(limit: 10) { customers(limit: 100) { salesorderheaders(limit: 100) { salesorderid } } } }',
    nestedSql: `select count(*) from sales.salesorderheader h join sales.customer c using (customerid)
      where c.territoryid = 1 and h.territoryid = 1`,
  },
};

const PAGILA: Sample = {
  name: 'pagila',
  schemas: ['public'],
  // Its payments' foreign keys are on the partitions, not on the partitioned table the API serves.
  foreignKeys: 18,
  columnReferences: 0,
  views: 7,
  joinTables: ['film_actor', 'film_category'],
  // film.fulltext is required and has no default: a trigger fills it, on create and on update.
  roundTrip: {
    create:
      'mutation { row: createFilm(input: { title: "GRANTGATE", languageId: "1" }) { key: filmId title } }',
    created: { title: 'GRANTGATE', fulltext: "'grantgat':1" },
    update: 'mutation { row: updateFilm(id: "$key", input: { title: "GATEKEEPER" }) { key: filmId title } }',
    updated: { title: 'GATEKEEPER', fulltext: "'gatekeep':1" },
    remove: 'mutation { deleteFilm(id: "$key") }',
    row: 'select title, fulltext::text from film where film_id = $1',
  },
  declarations: `
    import { declareSecurity } from 'POLICY';

    export default declareSecurity(({ rolePermission, globalFilter }) => {
      // Clerks read and write, but delete nothing.
      rolePermission('clerk', { delete: false });
      // A store's clerks see only its customers, inventory and staff.
      globalFilter('store', (currentUser) => ({ store: currentUser.store }), { rolesNotFiltered: ['sa'] });
    });`,
  users: [
    { id: 'root', roles: 'sa' },
    { id: 'mike', roles: 'clerk', attrs: ['store=1'] },
  ],
  rule: {
    user: 'mike',
    counts: {
      customersCount: 'select count(*) from customer where store_id = 1',
      inventoriesCount: 'select count(*) from inventory where store_id = 1',
      filmsCount: 'select count(*) from film',
    },
    nested: '{ stores { customers(limit: 100) { rentals(limit: 100) { rentalId } } } }',
    nestedSql: 'select count(*) from rental join customer using (customer_id) where store_id = 1',
  },
};

/** What grantgate may change in the team's schemas: nothing but row security and its policies. */
async function teamSchemas(db: TestDatabase, schemas: string[]) {
  const query = async (sql: string) => (await db.sql.query(sql, [schemas])).rows;
  return {
    columns: await query(
      `select table_schema, table_name, column_name, data_type, udt_name, is_nullable, column_default,
              is_identity, is_generated from information_schema.columns
        where table_schema = any($1) order by 1, 2, ordinal_position`,
    ),
    constraints: await query(
      `select n.nspname, conrelid::regclass::text, conname, pg_get_constraintdef(c.oid)
         from pg_constraint c join pg_namespace n on n.oid = c.connamespace
        where n.nspname = any($1) order by 1, 2, 3`,
    ),
    indexes: await query(
      `select schemaname, indexname, indexdef from pg_indexes where schemaname = any($1) order by 1, 2`,
    ),
    views: await query(
      `select schemaname, viewname, definition from pg_views where schemaname = any($1) order by 1, 2`,
    ),
    triggers: await query(
      `select tgrelid::regclass::text, tgname from pg_trigger t join pg_class c on c.oid = t.tgrelid
         join pg_namespace n on n.oid = c.relnamespace where n.nspname = any($1) and not tgisinternal order by 1, 2`,
    ),
    types: await query(
      `select n.nspname, typname, typtype from pg_type t join pg_namespace n on n.oid = t.typnamespace
        where n.nspname = any($1) and typtype in ('e', 'd', 'c') order by 1, 2`,
    ),
  };
}

/** The import's plan, as db:import makes it, to know each foreign key's fields on both sides. */
async function planOf(db: TestDatabase, schemas: string[]): Promise<PlannedEntity[]> {
  const orm = await MikroORM.init({
    clientUrl: db.url,
    entities: [],
    discovery: { warnWhenNoEntities: false },
  });
  try {
    const { tables, views } = await introspect(orm, schemas);
    return planEntities([...tables, ...views]).entities;
  } finally {
    await orm.close();
  }
}

/**
 * A column's value as PostgreSQL prints it, as the API serves it (`char(3)` keeps its padding, which a
 * cast to text would drop).
 */
const asOutput = (column: string) => `case when ${column} is null then null else concat(${column}) end`;
const tableOf = (entity: PlannedEntity) => `"${entity.schema ?? 'public'}"."${entity.tableName}"`;
/**
 * The first key column of an entity: its column, how a selection reaches it (through the related row
 * where the key is a to-one relation: `businessentity { businessentityid }`) and its value in a row.
 */
interface KeyPath {
  column: string;
  selection: string;
  valueIn(row: Record<string, unknown> | null): unknown;
}
function keyPath(entity: PlannedEntity, byClass: Map<string, PlannedEntity>): KeyPath {
  return memberPath(
    entity.members.find((m) => m.primary || /GeneratedId|NaturalId/.test(m.uses))!,
    byClass,
  );
}
/** The column of a member, as keyPath gives a key's. */
function memberPath(member: PlannedMember, byClass: Map<string, PlannedEntity>): KeyPath {
  if (member.uses !== 'ToOne')
    return { column: member.column!, selection: member.name, valueIn: (row) => row?.[member.name] ?? null };
  const inner = keyPath(byClass.get(member.target!)!, byClass);
  return {
    column: member.column!,
    selection: `${member.name} { ${inner.selection} }`,
    valueIn: (row) => inner.valueIn((row?.[member.name] ?? null) as Record<string, unknown> | null),
  };
}

function describeSample(sample: Sample) {
  const out = `test/imported-${sample.name}-${randomBytes(4).toString('hex')}`;
  let db: TestDatabase;
  let before: Awaited<ReturnType<typeof teamSchemas>>;
  let plan: PlannedEntity[];
  let imported: { code: number | null; stdout: string; stderr: string };
  let gateway: GatewayProcess;
  let url: string;
  const tokens = new Map<string, string>();
  /** A CLI of the project on the sample's database, serving the imported domain (DOMAIN) unless told. */
  const runIn = (domain: string, script: string, ...args: string[]) =>
    runProjectCli(script, args, { databaseUrl: db.url, env: { DOMAIN: domain } });
  const run = (script: string, ...args: string[]) => runIn(out, script, ...args);
  const gql = async (user: string, query: string, variables?: Record<string, unknown>) => {
    const result = await postGraphQL(url, query, { token: tokens.get(user), variables });
    expect(result.errors).toBeUndefined();
    return result.data!;
  };
  /** The list field of an entity, as the gateway names it. */
  /** The root list field of each entity type, as the served schema names it (`[Staff!]!`: `allStaff`). */
  let lists: Map<string, string>;
  const listField = (entity: PlannedEntity) => lists.get(entity.className)!;

  describe(`${sample.name}, imported as a team would (${sample.schemas.join(', ')})`, () => {
    beforeAll(async () => {
      db = await createTestDatabase({ empty: true });
      await loadRealSchema(db.sql, sample.name);
      before = await teamSchemas(db, sample.schemas);
      plan = await planOf(db, sample.schemas);
      // Written beside the served domain (`domain/`), as a team's --out is.
      imported = await runIn(
        'domain',
        'src/tools/cli/import-schema.ts',
        '--out',
        out,
        ...sample.schemas.flatMap((s) => ['--schema', s]),
      );
      expect(imported).toMatchObject({ code: 0, stderr: '' });
      await writeFile(
        join(ROOT, out, 'declare-security.ts'),
        sample.declarations.replace('POLICY', '../../security/system/policy.js'),
      );
      const policies = await run('src/tools/cli/create-security-migration.ts');
      expect(policies).toMatchObject({ code: 0, stderr: '' });
      for (const user of sample.users) {
        const added = await run(
          'src/tools/cli/auth-users.ts',
          ...['user', 'add', user.id, '--password', 'secret-1', '--roles', user.roles],
          ...(user.attrs ?? []).flatMap((attr) => ['--attr', attr]),
        );
        expect(added).toMatchObject({ code: 0, stderr: '' });
      }
      gateway = startGatewayProcess({
        DATABASE_URL: db.url,
        DOMAIN: out,
        JWT_SECRET: 'x'.repeat(32),
        MAX_RESULT_OBJECTS: '10000000',
      });
      url = await gateway.url;
      for (const user of sample.users)
        tokens.set(user.id, (await loginAs(url, user.id, 'secret-1')).accessToken);
      type TypeRef = { kind: string; name: string | null; ofType: TypeRef | null };
      const schema = (await gql(
        'root',
        '{ __schema { queryType { fields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }',
      )) as { __schema: { queryType: { fields: { name: string; type: TypeRef }[] } } };
      lists = new Map(
        schema.__schema.queryType.fields.flatMap(({ name, type }) =>
          type.kind === 'NON_NULL' && type.ofType?.kind === 'LIST' && type.ofType.ofType?.ofType?.name
            ? [[type.ofType.ofType.ofType.name, name] as const]
            : [],
        ),
      );
    }, 240_000);

    afterAll(async () => {
      await gateway?.stop();
      await rm(join(ROOT, out), { recursive: true, force: true });
      await db?.drop();
    });

    it('maps every table and view of the schemas, and db:migration:create then finds nothing to create', async () => {
      const { rows } = await db.sql.query<{ tables: number; views: number }>(
        `select count(*) filter (where c.relkind in ('r', 'p'))::int as tables,
                count(*) filter (where c.relkind = 'v')::int as views
           from pg_class c join pg_namespace n on n.oid = c.relnamespace
          where n.nspname = any($1) and c.relkind in ('r', 'p', 'v') and not c.relispartition`,
        [sample.schemas],
      );
      const { tables, views } = rows[0]!;
      expect(views).toBe(sample.views);
      expect(imported.stdout).toContain(
        `Mapped ${tables} table(s)${views > 0 ? ` and ${views} view(s)` : ''} into ${out}:`,
      );
      expect(plan).toHaveLength(tables + views);
      expect(await run('src/tools/cli/create-migration.ts')).toMatchObject({
        code: 0,
        stdout: 'The entities match the migrations: nothing to create.\n',
      });
    });

    it('answers every count as SQL does', async () => {
      const fields = plan.map((entity) => `${listField(entity)}Count`);
      const counts = (await gql('root', `{ ${fields.join(' ')} }`)) as Record<string, number>;
      for (const [index, entity] of plan.entries()) {
        const { rows } = await db.sql.query<{ n: number }>(
          `select count(*)::int as n from ${tableOf(entity)}`,
        );
        expect({ [entity.tableName]: counts[fields[index]!] }).toEqual({ [entity.tableName]: rows[0]!.n });
      }
    });

    /**
     * `<owner list> { <key> <field>(limit: 1000) <field>Count }` gives each owner row as many related
     * rows as `referring` has rows whose `column` holds its key (the first 1000 owners; at most 1000
     * rows each, and the count uncapped).
     */
    const expectChildCounts = async (
      owner: PlannedEntity,
      field: string,
      referring: PlannedEntity,
      column: string,
    ) => {
      const ownerKey = keyPath(owner, new Map(plan.map((entity) => [entity.className, entity])));
      const children = (await gql(
        'root',
        `{ rows: ${listField(owner)}(limit: 1000) { ${ownerKey.selection} ${field}(limit: 1000) { __typename } ${field}Count } }`,
      )) as { rows: Record<string, unknown>[] };
      const { rows: counted } = await db.sql.query<{ key: string; n: number; all: number }>(
        `select ${asOutput(`t."${ownerKey.column}"`)} as key, least(count(r."${column}"), 1000)::int as n,
                count(r."${column}")::int as "all"
           from ${tableOf(owner)} t left join ${tableOf(referring)} r on r."${column}" = t."${ownerKey.column}"
          group by 1 order by min(t."${ownerKey.column}") limit 1000`,
      );
      expect(
        Object.fromEntries(
          children.rows.map((row) => [String(ownerKey.valueIn(row)), (row[field] as unknown[]).length]),
        ),
        `${owner.className}.${field}`,
      ).toEqual(Object.fromEntries(counted.map((row) => [row.key, row.n])));
      expect(
        Object.fromEntries(children.rows.map((row) => [String(ownerKey.valueIn(row)), row[`${field}Count`]])),
        `${owner.className}.${field}Count`,
      ).toEqual(Object.fromEntries(counted.map((row) => [row.key, row.all])));
      // The relation as a filter (through a join table too): the owners with some related row, and none.
      const filtered = await gql(
        'root',
        `{ some: ${listField(owner)}Count(where: { ${field}: { some: {} } }) none: ${listField(owner)}Count(where: { ${field}: { none: {} } }) }`,
      );
      const related = `exists (select 1 from ${tableOf(referring)} r where r."${column}" = t."${ownerKey.column}")`;
      const { rows: sql } = await db.sql.query<{ some: number; none: number }>(
        `select count(*) filter (where ${related})::int as some, count(*) filter (where not ${related})::int as none
           from ${tableOf(owner)} t`,
      );
      expect(filtered, `${owner.className}.${field} as a filter`).toEqual(sql[0]);
    };

    it('walks every foreign key both ways, with the rows SQL relates', async () => {
      const byClass = new Map(plan.map((entity) => [entity.className, entity]));
      let walked = 0;
      // Views have no foreign keys (nor, some of them, a key).
      for (const referring of plan.filter((entity) => !entity.view)) {
        const referringKey = keyPath(referring, byClass);
        const composite = referring.members.filter((m) => m.primary).length > 1;
        for (const relation of referring.members.filter((m) => m.uses === 'ToOne')) {
          const target = byClass.get(relation.target!)!;
          const inverse = target.members.find(
            (m) =>
              m.collection && m.target === referring.className && m.decorator.endsWith(`.${relation.name})`),
          )!;
          expect(inverse, `${referring.className}.${relation.name} has an inverse`).toBeDefined();
          const targetKey = keyPath(target, byClass);
          // Forward: each referring row's related key, as the column holds it.
          const related = (await gql(
            'root',
            `{ rows: ${listField(referring)}(limit: 1000) { ${relation.name} { ${targetKey.selection} } } }`,
          )) as { rows: Record<string, unknown>[] };
          const { rows: sql } = await db.sql.query<{ fk: string | null }>(
            `select ${asOutput(`"${relation.column}"`)} as fk from ${tableOf(referring)} order by ${composite ? 1 : `"${referringKey.column}"`} limit 1000`,
          );
          const forward = related.rows.map((row) =>
            targetKey.valueIn(row[relation.name] as Record<string, unknown> | null),
          );
          // A page of rows in no given order: compared only where the whole table fits in it.
          if (sql.length < 1000)
            expect(forward.map((value) => (value === null ? null : String(value))).sort()).toEqual(
              sql.map((row) => row.fk).sort(),
            );
          // Backward: how many referring rows each target row has.
          await expectChildCounts(target, inverse.name, referring, relation.column!);
          walked++;
        }
      }
      expect(walked).toBe(sample.foreignKeys);
    });

    it('walks every foreign key of several columns both ways, with the rows SQL relates', async () => {
      const byClass = new Map(plan.map((entity) => [entity.className, entity]));
      const pathsOf = (entity: PlannedEntity, names: string[]) =>
        names.map((name) =>
          memberPath(
            entity.members.find((m) => m.name === name)!,
            byClass,
          ),
        );
      const valuesIn = (paths: KeyPath[], row: Record<string, unknown> | null) =>
        JSON.stringify(paths.map((path) => (path.valueIn(row) === null ? null : String(path.valueIn(row)))));
      let walked = 0;
      for (const referring of plan) {
        for (const reference of referring.columnReferences) {
          const target = byClass.get(reference.target)!;
          const own = pathsOf(
            referring,
            reference.columns.map(([column]) => column),
          );
          const theirs = pathsOf(
            target,
            reference.columns.map(([, column]) => column),
          );
          const selection = (paths: KeyPath[]) => paths.map((path) => path.selection).join(' ');
          // Forward: a referring row's related row holds the values of its columns, when all are set.
          const { rows } = (await gql(
            'root',
            `{ rows: ${listField(referring)}(limit: 1000) { ${selection(own)} ref: ${reference.name} { ${selection(theirs)} } } }`,
          )) as { rows: Record<string, unknown>[] };
          expect(rows.length).toBeGreaterThan(0);
          for (const row of rows) {
            const values = valuesIn(own, row);
            expect(row.ref === null ? null : valuesIn(theirs, row.ref as Record<string, unknown>)).toBe(
              values.includes('null') ? null : values,
            );
          }
          // Backward: each target row's referring rows, as many as SQL counts, holding its values.
          const children = (await gql(
            'root',
            `{ rows: ${listField(target)}(limit: 1000) { ${selection(theirs)} children: ${reference.inverse}(limit: 1000) { ${selection(own)} } n: ${reference.inverse}Count } }`,
          )) as { rows: Record<string, unknown>[] };
          const columns = (paths: KeyPath[], alias: string) =>
            paths.map((path) => `${alias}."${path.column}"`);
          const counted = await db.sql.query<{ key: string; n: number }>(
            `select json_build_array(${columns(theirs, 't')
              .map((column) => `${column}::text`)
              .join(', ')})::text as key,
                    count(r.*)::int as n
               from ${tableOf(target)} t left join ${tableOf(referring)} r
                 on ${columns(theirs, 't')
                   .map((column, i) => `${column} = ${columns(own, 'r')[i]}`)
                   .join(' and ')}
              group by 1`,
          );
          const expected = new Map(counted.rows.map((row) => [JSON.stringify(JSON.parse(row.key)), row.n]));
          for (const row of children.rows) {
            const key = valuesIn(theirs, row);
            expect(row.n, `${target.className}.${reference.inverse}Count of ${key}`).toBe(expected.get(key));
            const related = row.children as Record<string, unknown>[];
            expect(related.length).toBe(Math.min(1000, expected.get(key)!));
            for (const child of related) expect(valuesIn(own, child)).toBe(key);
          }
          walked++;
        }
      }
      expect(walked).toBe(sample.columnReferences);
    });

    it('aggregates every number of every table and view as SQL does, and pages each through a connection', async () => {
      type Field = { name: string; type: { name: string | null; ofType: { name: string | null } | null } };
      const aggregateOf = async (typeName: string) =>
        (
          (await gql(
            'root',
            `{ __type(name: "${typeName}") { fields { name type { name ofType { name } } } } }`,
          )) as { __type: { fields: Field[] } | null }
        ).__type?.fields ?? [];
      const query = (await gql(
        'root',
        '{ __schema { queryType { fields { name type { name ofType { name } } } } } }',
      )) as { __schema: { queryType: { fields: Field[] } } };
      const typeOf = (field: Field) => field.type.name ?? field.type.ofType?.name ?? '';
      const rootType = new Map(query.__schema.queryType.fields.map((field) => [field.name, typeOf(field)]));
      let summed = 0;
      for (const entity of plan) {
        const list = listField(entity);
        const aggregate = await aggregateOf(rootType.get(`${list}Aggregate`)!);
        const sumType = aggregate.find((field) => field.name === 'sum');
        const numbers = sumType ? await aggregateOf(typeOf(sumType)) : [];
        const maxType = aggregate.find((field) => field.name === 'max');
        /** The type of a number's greatest value: the field's own (a sum of Ints is a Decimal). */
        const ownType = new Map(
          (maxType ? await aggregateOf(typeOf(maxType)) : []).map((field) => [field.name, typeOf(field)]),
        );
        const columnOf = (name: string) => entity.members.find((member) => member.name === name)!.column!;
        const selection = numbers.map((field) => field.name).join(' ');
        const answer = (await gql(
          'root',
          `{ a: ${list}Aggregate { count ${selection && `sum { ${selection} } max { ${selection} }`} } }`,
        )) as { a: { count: number; sum?: Record<string, unknown>; max?: Record<string, unknown> } };
        const sums = numbers.map(
          (field) =>
            `sum("${columnOf(field.name)}")${typeOf(field) === 'Float' ? '' : '::text'} as "sum ${field.name}", ` +
            `max("${columnOf(field.name)}")${['Float', 'Int'].includes(ownType.get(field.name)!) ? '' : '::text'} as "max ${field.name}"`,
        );
        const { rows } = await db.sql.query(
          `select ${['count(*)::int as count', ...sums].join(', ')} from ${tableOf(entity)}`,
        );
        const sql = rows[0] as Record<string, unknown>;
        expect(answer.a, entity.className).toEqual({
          count: sql.count,
          ...(selection && {
            sum: Object.fromEntries(numbers.map((field) => [field.name, sql[`sum ${field.name}`]])),
            max: Object.fromEntries(numbers.map((field) => [field.name, sql[`max ${field.name}`]])),
          }),
        });
        summed += numbers.length;

        // Two pages of three by the key (whatever its columns and types): six rows, none twice.
        if (
          !rootType.has(`${list}Connection`) ||
          entity.members.every((member) => !member.primary && !/GeneratedId|NaturalId/.test(member.uses))
        )
          continue;
        const page = async (after: string | null) =>
          (
            (await gql(
              'root',
              `query ($after: String) { c: ${list}Connection(first: 3, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor } } }`,
              { after },
            )) as {
              c: {
                totalCount: number;
                pageInfo: { hasNextPage: boolean; endCursor: string | null };
                edges: { cursor: string }[];
              };
            }
          ).c;
        const first = await page(null);
        expect(first.totalCount, entity.className).toBe(sql.count);
        expect(first.pageInfo.hasNextPage, entity.className).toBe((sql.count as number) > 3);
        const second = await page(first.pageInfo.endCursor);
        const cursors = [...first.edges, ...second.edges].map((edge) => edge.cursor);
        expect(new Set(cursors).size, entity.className).toBe(Math.min(6, sql.count as number));
      }
      expect(summed).toBeGreaterThan(0);
    });

    it('reaches each side of a join table from the other, through it', async () => {
      const byClass = new Map(plan.map((entity) => [entity.className, entity]));
      const joins = plan.filter(
        (entity) =>
          entity.members.filter((m) => m.primary).length === 2 &&
          entity.members.filter((m) => m.primary && m.uses === 'ToOne').length === 2,
      );
      expect(joins.map((join) => join.tableName)).toEqual(sample.joinTables);
      for (const join of joins) {
        const sides = join.members.filter((m) => m.primary);
        for (const [from, to] of [sides, [...sides].reverse()] as const) {
          const field = pluralize(lowerFirst(to!.target!));
          await expectChildCounts(byClass.get(from!.target!)!, field, join, from!.column!);
        }
      }
    });

    it('security:check finds the policies as declared, and names the views they do not reach', async () => {
      const check = await run('src/tools/cli/security-check.ts');
      expect(check).toMatchObject({ code: 0, stderr: '' });
      expect(check.stdout).toContain("The database's policies match the declarations");
      // The samples' views belong to the test's superuser: their tables' policies never see the reader.
      expect(check.stdout.includes("Views the database's policies do not reach")).toBe(sample.views > 0);
    });

    it('serves every view read-only: no create, update or delete field', async () => {
      const schema = (await gql('root', '{ __schema { mutationType { fields { name } } } }')) as {
        __schema: { mutationType: { fields: { name: string }[] } };
      };
      const mutations = schema.__schema.mutationType.fields.map((field) => field.name);
      const views = plan.filter((entity) => entity.view).map((entity) => entity.className);
      expect(views).toHaveLength(sample.views);
      for (const view of views)
        expect(
          mutations.filter((name) => name.endsWith(view) && /^(create|update|delete)/.test(name)),
        ).toEqual([]);
      // The tables still are writable: the check above can fail.
      const table = plan.find((entity) => !entity.view)!.className;
      expect(mutations).toContain(`delete${table}`);
    });

    it('creates, updates and deletes a row, and the database shows each', async () => {
      const { roundTrip } = sample;
      const created = (await gql('root', roundTrip.create)) as { row: { key: string | number } };
      const key = String(created.row.key);
      expect((await db.sql.query(roundTrip.row, [key])).rows).toEqual([
        expect.objectContaining(roundTrip.created),
      ]);
      await gql('root', roundTrip.update.replace('$key', key));
      expect((await db.sql.query(roundTrip.row, [key])).rows).toEqual([
        expect.objectContaining(roundTrip.updated),
      ]);
      expect(Object.values(await gql('root', roundTrip.remove.replace('$key', key)))).toEqual([true]);
      expect((await db.sql.query(roundTrip.row, [key])).rows).toEqual([]);
    });

    it("leaves the team's schemas as they were, apart from row security", async () => {
      expect(await teamSchemas(db, sample.schemas)).toEqual(before);
    });

    it(`keeps ${sample.rule.user} to the rows the rule admits, nested reads included`, async () => {
      const counts = await gql(sample.rule.user, `{ ${Object.keys(sample.rule.counts).join(' ')} }`);
      for (const [field, sql] of Object.entries(sample.rule.counts)) {
        const { rows } = await db.sql.query<{ count: string }>(sql);
        expect({ [field]: counts[field] }).toEqual({ [field]: Number(rows[0]!.count) });
      }
      const nested = JSON.stringify(await gql(sample.rule.user, sample.rule.nested));
      const leaves = (nested.match(/\{"(quantity|salesorderid|rentalId)"/g) ?? []).length;
      const { rows } = await db.sql.query<{ count: string }>(sample.rule.nestedSql);
      expect(leaves).toBe(Number(rows[0]!.count));
      expect(leaves).toBeGreaterThan(0);
    });

    it('lets no demo account in', async () => {
      const login = await postGraphQL(
        url,
        'mutation { login(username: "admin", password: "p") { accessToken } }',
      );
      expect(login.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const { rows } = await db.sql.query<{ id: string }>('select id from auth."user" order by id');
      expect(rows.map((row) => row.id)).toEqual(sample.users.map((user) => user.id).sort());
    });
  });
}

describeSample(CHINOOK);
describeSample(ADVENTUREWORKS);
describeSample(PAGILA);
