/**
 * `npm run db:import [-- --schema <name> … --out <folder> --force]`: reads the tables of DATABASE_URL
 * (schema `public` unless told) through MikroORM's introspection and writes a domain into the folder
 * (the served one, DOMAIN — `domain/` — unless told): one entity class per table in the style of the
 * demo's, the list of them, a starting declare-security.ts, the domain's index.ts and its (empty)
 * migrations. Writing the served domain also regenerates schema/schema.graphql, typed operations per
 * entity under schema/operations/ and schema/__generated__/. It prints what it mapped, what it left
 * out and why, and what to do next. It never writes to the database, and writes no file unless the
 * whole domain loads, its schema builds and its operations validate (src/tools/import/staged-domain.ts).
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { lowerFirst } from '../../api/entity-model.js';
import { domainPath } from '../../domain.js';
import { domainSource, emptyMigrationIndex, IMPORTED_MARKER } from '../import/domain-source.js';
import { type PlannedEntity, planEntities } from '../import/entity-plan.js';
import { entitySource, enumsSource, indexSource } from '../import/entity-source.js';
import { ENGINE_ENTRY, fileBaseOf, importPath } from '../import/source-text.js';
import { introspect } from '../import/introspection.js';
import { securitySource } from '../import/security-source.js';
import { ImportError, stageDomain, writeStagedDomain } from '../import/staged-domain.js';
import { withCatalog } from './with-database.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    schema: { type: 'string', multiple: true, default: ['public'] },
    force: { type: 'boolean', default: false },
  },
});

/**
 * Why the folder must not be written, if it must not: it holds something other than the demo's
 * pointer (a fresh clone's domain/index.ts) or an earlier import, or an earlier import without --force.
 */
async function refusal(folder: string): Promise<string | undefined> {
  if (!existsSync(folder)) return undefined;
  const index = join(folder, 'index.ts');
  const text = existsSync(index) ? await readFile(index, 'utf8') : '';
  if (text.includes('demo/northwind/index.js')) return undefined;
  if (text.includes(IMPORTED_MARKER))
    return values.force
      ? undefined
      : `${folder}/ already holds an imported domain; run again with -- --force to replace its entity classes (declare-security.ts and migrations/ are kept)`;
  if ((await readdir(folder)).length === 0) return undefined;
  return `${folder}/ holds files db:import did not write; choose another --out or move them away`;
}

/** How a view is served: read-only, and by key only where the catalog shows one (introspection.ts `viewKeys`). */
function viewNote(entity: PlannedEntity): string {
  if (!entity.view) return '';
  const key = entity.members.filter((m) => m.primary).map((m) => m.column);
  return key.length > 0
    ? ` (a view: read-only, by key ${key.join(', ')}; writable if declared @WritableView())`
    : ' (a view: read-only, listed and counted, no key to fetch a row by)';
}

/** The classes a join table's key relates: its two to-one key columns' targets. */
const joined = (entity: PlannedEntity) =>
  entity.members.filter((m) => m.uses === 'ToOne' && m.primary).map((m) => m.target!);
/** A key of two to-one relations: the gateway serves a to-many field through it on both sides. */
const isJoinTable = (entity: PlannedEntity) =>
  joined(entity).length === 2 && entity.members.filter((m) => m.primary).length === 2;

/** An error PostgreSQL answered (it has a SQLSTATE), rather than one of the import's own. */
const isDatabaseError = (error: unknown): error is Error & { code: string } =>
  error instanceof Error && typeof (error as { code?: unknown }).code === 'string';

/**
 * Where an error met while loading the planned classes lies, in the team's words: the tables of the
 * classes it names (`GraphQL field staffList would serve both Staff and StaffList`).
 */
function describeFailure(error: unknown, entities: PlannedEntity[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const tables = entities
    .filter((entity) => new RegExp(`\\b${entity.className}\\b`).test(message))
    .map(
      (entity) =>
        `${entity.className} is table ${entity.schema ? `${entity.schema}.` : ''}${entity.tableName}`,
    );
  return tables.length > 0 ? `${message} (${tables.join('; ')})` : message;
}

await withCatalog(async (orm, config) => {
  // --out is a path as typed; DOMAIN, like everywhere, is found from the project's root.
  const servedPath = domainPath(config.domain);
  const folder = relative('.', values.out ? resolve(values.out) : servedPath) || '.';
  const refused = await refusal(folder);
  if (refused) {
    console.error(refused);
    process.exitCode = 1;
    return;
  }
  let introspected;
  try {
    introspected = await introspect(orm, values.schema);
  } catch (error) {
    // MikroORM's introspection quotes some names itself and fails on a few (a table named with a quote
    // or a dot): one line, nothing written, rather than its stack.
    if (!isDatabaseError(error)) throw error;
    console.error(`Could not read the schema: ${error.message}. Nothing was written.`);
    process.exitCode = 1;
    return;
  }
  const { tables, views, materializedViews } = introspected;
  // Tables first: they keep a class name a view would also take.
  const { entities, enums, skipped, actingForeignKeys } = planEntities([...tables, ...views]);
  if (entities.length === 0) {
    console.error(`No table of schema ${values.schema.join(', ')} could be mapped; ${folder}/ is unchanged.`);
    for (const { what, why } of skipped) console.error(`  ${what}: ${why}`);
    process.exitCode = 1;
    return;
  }

  const declarations = join(folder, 'declare-security.ts');
  const keptDeclarations = existsSync(declarations);
  const keptMigrations = existsSync(join(folder, 'migrations/index.ts'));
  const files = new Map<string, string>();
  if (enums.length > 0) files.set('enums.ts', enumsSource(enums));
  for (const entity of entities)
    files.set(
      `${fileBaseOf(entity.className)}.entity.ts`,
      entitySource(entity, { outDir: folder, engine: ENGINE_ENTRY }),
    );
  files.set('entities.ts', indexSource(entities));
  if (!keptDeclarations)
    files.set(
      'declare-security.ts',
      securitySource(entities, {
        policy: importPath(folder, ENGINE_ENTRY),
        entities: './entities.js',
      }),
    );
  if (!keptMigrations) files.set('migrations/index.ts', emptyMigrationIndex);
  files.set('index.ts', domainSource(folder));
  const served = resolve(folder) === servedPath;
  let staged;
  try {
    staged = await stageDomain(folder, files, {
      kept: [...(keptDeclarations ? ['declare-security.ts'] : []), ...(keptMigrations ? ['migrations'] : [])],
      classNames: entities.map((entity) => entity.className),
      served,
      describe: (error) => describeFailure(error, entities),
    });
  } catch (error) {
    if (!(error instanceof ImportError)) throw error;
    console.error(`Could not import: ${error.message}. Nothing was written.`);
    process.exitCode = 1;
    return;
  }
  await writeStagedDomain(folder, staged);

  const viewCount = entities.filter((entity) => entity.view).length;
  console.log(
    `Mapped ${entities.length - viewCount} table(s)${viewCount > 0 ? ` and ${viewCount} view(s)` : ''} into ${folder}:`,
  );
  for (const entity of entities)
    console.log(`  ${entity.tableName} → ${entity.className}${viewNote(entity)}`);
  for (const e of enums) {
    const renamed = e.values.filter((v) => v.graphql !== v.database);
    console.log(
      `  enum ${e.nativeEnumName} → ${e.name}${renamed.length ? ` (${renamed.map((v) => `'${v.database}' as ${v.graphql}`).join(', ')})` : ''}`,
    );
  }
  console.log('Relations, both ways (to-one ← its inverse to-many):');
  for (const entity of entities)
    for (const member of entity.members.filter((m) => m.collection))
      console.log(
        `  ${lowerFirst(member.target!)}.${member.inverseOf} ← ${lowerFirst(entity.className)}.${member.name}`,
      );
  for (const entity of entities)
    for (const reference of entity.columnReferences)
      console.log(
        `  ${lowerFirst(entity.className)}.${reference.name} ← ${lowerFirst(reference.target)}.${reference.inverse} (by its columns ${reference.columns.map(([own]) => own).join(', ')})`,
      );
  for (const entity of entities.filter(isJoinTable))
    console.log(
      `  ${entity.tableName} joins ${joined(entity).join(' and ')}: each has a to-many field of the other through it`,
    );
  const filled = entities.flatMap((entity) =>
    entity.members.flatMap((m) =>
      m.filledBy ? [`  ${entity.tableName}.${m.column} (trigger ${m.filledBy})`] : [],
    ),
  );
  if (filled.length > 0) console.log('Filled by a trigger on insert, so optional on create:');
  for (const line of filled) console.log(line);
  const asText = entities.flatMap((entity) =>
    entity.members.flatMap((m) => (m.asText ? [`  ${entity.tableName}.${m.column}: ${m.asText}`] : [])),
  );
  if (asText.length > 0)
    console.log("Served in PostgreSQL's text form (GraphQL scalar Textual, filtered by isNull only):");
  for (const line of asText) console.log(line);
  const left = [
    ...skipped,
    ...materializedViews.map((view) => ({ what: view, why: 'a materialized view: not served' })),
  ];
  if (left.length > 0) console.log('Left out:');
  for (const { what, why } of left) console.log(`  ${what}: ${why}`);
  if (actingForeignKeys.length > 0)
    console.log(
      'Kept as they are, and acting under no row security (a delete through the API reaches rows its caller may not see):',
    );
  for (const foreignKey of actingForeignKeys) console.log(`  ${foreignKey}`);
  if (keptDeclarations) console.log(`Kept ${declarations}: add rules for any new entity.`);

  if (served)
    console.log('Wrote schema/schema.graphql, schema/operations/ and schema/__generated__/graphql.ts.');
  if (viewCount > 0)
    console.log(
      "Views: read-only, under rules of their own, not their tables': a view without the tenant column is read by\n" +
        'sa alone until declare-security.ts shares it (it lists them apart).',
    );
  console.log(
    'Row security: npm run security:migration enables and forces PostgreSQL row-level security on every table and\n' +
      'lists those whose rows the declarations restrict (a global filter, a scope, a filtered grant); on the others it\n' +
      'checks the verbs of gateway requests only. Other clients of this database (any role but a superuser or one with\n' +
      'BYPASSRLS, the tables\' owner included) then read and write no row of the restricted tables: see README, "Other clients of the same database".',
  );
  console.log(
    `Next: edit ${declarations}, then npm run security:migration, npm run security:check and ` +
      (served ? 'npm start.' : `DOMAIN=${folder} npm start.`),
  );
});
