/**
 * `npm run db:import [-- --schema <name> … --out <folder> --force]`: reads the tables of DATABASE_URL
 * (schema `public` unless told) through MikroORM's introspection and writes a domain into the folder
 * (the served one, DOMAIN — `domain/` — unless told): one entity class per table in the style of the
 * demo's, the list of them, a starting declare-security.ts, the domain's index.ts and its (empty)
 * migrations. Writing the served domain also regenerates schema/schema.graphql, typed operations per
 * entity under schema/operations/ and schema/__generated__/. It prints what it mapped, what it left
 * out and why, and what to do next. It never writes to the database.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSchema } from 'graphql';
import { emitSchemaText, SCHEMA_FILE } from '../../api/schema-file.js';
import { domainPath, loadDomain } from '../../domain.js';
import { domainSource, emptyMigrationIndex, IMPORTED_MARKER } from '../import/domain-source.js';
import { planEntities } from '../import/entity-plan.js';
import { entitySource, enumsSource, fileBaseOf, importPath, indexSource } from '../import/entity-source.js';
import { introspect } from '../import/introspection.js';
import { operationsSources } from '../import/operations-source.js';
import { securitySource } from '../import/security-source.js';
import { writeFormatted } from './formatted-file.js';
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

/** schema/schema.graphql, schema/operations/<entity>.graphql and schema/__generated__ for the served domain. */
async function regenerateSchema(folder: string, classNames: string[]) {
  const text = await emitSchemaText(await loadDomain(folder));
  await writeFile(SCHEMA_FILE, text);
  for (const file of await readdir('schema/operations'))
    if (file !== 'auth.graphql') await rm(join('schema/operations', file));
  for (const [name, source] of operationsSources(buildSchema(text), classNames))
    await writeFormatted(join('schema/operations', `${fileBaseOf(name)}.graphql`), source);
  // The code generator is a development tool: present wherever `npm install` ran.
  const { generate } = await import('@graphql-codegen/cli');
  const { parse } = await import('yaml');
  await generate({ ...parse(await readFile('codegen.yml', 'utf8')), cwd: process.cwd(), silent: true }, true);
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
  const { tables, views } = await introspect(orm, values.schema);
  const { entities, enums, skipped, actingForeignKeys } = planEntities(tables);
  if (entities.length === 0) {
    console.error(`No table of schema ${values.schema.join(', ')} could be mapped; ${folder}/ is unchanged.`);
    for (const { what, why } of skipped) console.error(`  ${what}: ${why}`);
    process.exitCode = 1;
    return;
  }

  await mkdir(join(folder, 'migrations'), { recursive: true });
  for (const file of await readdir(folder))
    if (file.endsWith('.entity.ts') || file === 'enums.ts') await rm(join(folder, file));
  if (enums.length > 0) await writeFormatted(join(folder, 'enums.ts'), enumsSource(enums));
  for (const entity of entities) {
    const file = join(folder, `${fileBaseOf(entity.className)}.entity.ts`);
    await writeFormatted(file, entitySource(entity, { outDir: folder, entitiesDir: 'src/model' }));
  }
  await writeFormatted(join(folder, 'entities.ts'), indexSource(entities));
  const declarations = join(folder, 'declare-security.ts');
  const keptDeclarations = existsSync(declarations);
  if (!keptDeclarations)
    await writeFormatted(
      declarations,
      securitySource(entities, {
        policy: importPath(folder, 'security/system/policy.ts'),
        entities: './entities.js',
      }),
    );
  if (!existsSync(join(folder, 'migrations/index.ts')))
    await writeFormatted(join(folder, 'migrations/index.ts'), emptyMigrationIndex);
  await writeFormatted(join(folder, 'index.ts'), domainSource(folder));

  console.log(`Mapped ${entities.length} table(s) into ${folder}:`);
  for (const entity of entities) console.log(`  ${entity.tableName} → ${entity.className}`);
  for (const e of enums) {
    const renamed = e.values.filter((v) => v.graphql !== v.database);
    console.log(
      `  enum ${e.nativeEnumName} → ${e.name}${renamed.length ? ` (${renamed.map((v) => `'${v.database}' as ${v.graphql}`).join(', ')})` : ''}`,
    );
  }
  const left = [...skipped, ...views.map((view) => ({ what: view, why: 'a view: read-only, not imported' }))];
  if (left.length > 0) console.log('Left out:');
  for (const { what, why } of left) console.log(`  ${what}: ${why}`);
  if (actingForeignKeys.length > 0)
    console.log(
      'Kept as they are, and acting under no row security (a delete through the API reaches rows its caller may not see):',
    );
  for (const foreignKey of actingForeignKeys) console.log(`  ${foreignKey}`);
  if (keptDeclarations) console.log(`Kept ${declarations}: add rules for any new entity.`);

  const served = resolve(folder) === servedPath;
  if (served) {
    await regenerateSchema(
      folder,
      entities.map((entity) => entity.className),
    );
    console.log('Wrote schema/schema.graphql, schema/operations/ and schema/__generated__/graphql.ts.');
  }
  console.log(
    `Next: edit ${declarations}, then npm run security:migration, npm run security:check and ` +
      (served ? 'npm start.' : `DOMAIN=${folder} npm start.`),
  );
});
