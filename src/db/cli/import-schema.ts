/**
 * `npm run db:import -- --out <folder> [--schema <name> …]`: reads the tables of DATABASE_URL
 * (schema `public` unless told) through MikroORM's introspection and writes one entity class per
 * table into the folder, in the style of src/entities, with an index.ts and a starting
 * declare-security.ts beside them (to move into src/entities/ and security/); then prints what it mapped, and what it left out and why.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { planEntities } from '../import/entity-plan.js';
import { entitySource, enumsSource, fileBaseOf, importPath, indexSource } from '../import/entity-source.js';
import { introspect } from '../import/introspection.js';
import { securitySource } from '../import/security-source.js';
import { withDatabase } from './with-database.js';

const { values } = parseArgs({
  options: { out: { type: 'string' }, schema: { type: 'string', multiple: true, default: ['public'] } },
});
if (!values.out) {
  console.error('usage: npm run db:import -- --out <folder> [--schema <name> …]');
  process.exit(1);
}
const outDir = resolve(values.out);
const entitiesDir = resolve('src/entities');

/** Written formatted, so the imported files pass `npm run lint` as they are. */
async function writeFormatted(file: string, source: string) {
  await writeFile(file, await format(source, { ...(await resolveConfig(file)), filepath: file }));
}

await withDatabase(async (orm) => {
  const { tables, views } = await introspect(orm, values.schema);
  const { entities, enums, skipped } = planEntities(tables);
  await mkdir(outDir, { recursive: true });
  if (enums.length > 0) await writeFormatted(join(outDir, 'enums.ts'), enumsSource(enums));
  for (const entity of entities) {
    const file = join(outDir, `${fileBaseOf(entity.className)}.entity.ts`);
    await writeFormatted(file, entitySource(entity, { outDir, entitiesDir }));
  }
  await writeFormatted(join(outDir, 'index.ts'), indexSource(entities));
  await writeFormatted(
    join(outDir, 'declare-security.ts'),
    securitySource(entities, {
      policy: importPath(outDir, resolve('security/system/policy.ts')),
      entities: './index.js',
    }),
  );

  console.log(`Mapped ${entities.length} table(s) into ${values.out}:`);
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
});
