import { type PlannedEntity, type PlannedEnum } from './entity-plan.js';
import { fileBaseOf, importPath, tsString } from './source-text.js';

/**
 * How a view is declared. With a key: a view entity with its SQL as the database has it, so a
 * migration sees it unchanged. Without one (MikroORM's view entities need a key): a virtual entity
 * reading the view, which migrations do not see at all.
 */
function viewOptions(entity: PlannedEntity): string {
  if (entity.members.some((member) => member.primary))
    return `, view: true, expression: ${tsString(entity.view!.definition)}`;
  const name = [entity.schema, entity.tableName]
    .filter(Boolean)
    .map((part) => `"${part!.replaceAll('"', '""')}"`);
  return `, expression: ${tsString(`select * from ${name.join('.')}`)}`;
}

/**
 * The source of one entity class, written like the demo's (demo/northwind/entities): an `@Entity`
 * that is an `@ObjectType`, one column decorator per column, `ToOne` per foreign key, the table's
 * indexes, unique constraints and checks. The table is named explicitly: it is the team's, and its
 * name need not follow MikroORM's naming strategy.
 */
export function entitySource(entity: PlannedEntity, options: { outDir: string; engine: string }): string {
  const columns = [
    ...new Set(entity.members.map((m) => m.uses).filter((uses) => uses !== 'ToOne' && uses !== 'OneToMany')),
  ].sort();
  const targets = [
    ...new Set([
      ...entity.members.flatMap((m) => (m.target ? [m.target] : [])),
      ...entity.columnReferences.map((reference) => reference.target),
    ]),
  ]
    .filter((target) => target !== entity.className)
    .sort();
  const hasRelations = entity.members.some((m) => m.uses === 'ToOne');
  const hasCollections = entity.members.some((m) => m.collection);
  const relationDecorators = [
    ...(entity.columnReferences.length > 0 ? ['ReferencesByColumns'] : []),
    ...(hasRelations ? ['ToOne'] : []),
  ];
  const core = [...(hasCollections ? ['Collection'] : []), ...(hasRelations ? ['type Rel'] : [])];
  const enumNames = [...new Set(entity.members.flatMap((m) => (m.enumName ? [m.enumName] : [])))].sort();
  const table = entity.schema && entity.schema !== 'public' ? `, schema: '${entity.schema}'` : '';
  const view = entity.view ? viewOptions(entity) : '';
  const tableDecorators = ['Check', 'Index', 'Unique'].filter((name) =>
    entity.tableDecorators.some((decorator) => decorator.startsWith(`@${name}(`)),
  );
  const lines = [
    ...(core.length > 0 ? [`import { ${core.join(', ')} } from '@mikro-orm/core';`] : []),
    `import { ${['Entity', ...tableDecorators, ...(hasCollections ? ['OneToMany'] : [])].sort().join(', ')} } from '@mikro-orm/decorators/legacy';`,
    "import { ObjectType } from 'type-graphql';",
    ...(columns.length + relationDecorators.length > 0
      ? [
          `import { ${[...columns, ...relationDecorators].join(', ')} } from '${importPath(options.outDir, options.engine)}';`,
        ]
      : []),
    ...targets.map((target) => `import { ${target} } from './${fileBaseOf(target)}.entity.js';`),
    ...(enumNames.length > 0 ? [`import { ${enumNames.join(', ')} } from './enums.js';`] : []),
    '',
    `@Entity({ tableName: '${entity.tableName}'${table}${view}${entity.comment ? `, comment: ${tsString(entity.comment)}` : ''} })`,
    ...entity.tableDecorators,
    entity.comment ? `@ObjectType({ description: ${tsString(entity.comment)} })` : '@ObjectType()',
    `export class ${entity.className} {`,
    ...entity.members.flatMap((member) => [
      `  ${member.decorator}`,
      member.collection
        ? `  ${member.name} = new ${member.type}(this);`
        : member.optional
          ? `  ${member.name}?: ${member.type} | null;`
          : `  ${member.name}!: ${member.type};`,
      '',
    ]),
    '}',
    '',
  ];
  return lines.join('\n');
}

/** `<folder>/entities.ts` of an imported domain: the classes the gateway serves. */
export function indexSource(entities: PlannedEntity[]): string {
  const names = entities.map((e) => e.className).sort();
  return [
    "import 'reflect-metadata';",
    ...names.map((name) => `import { ${name} } from './${fileBaseOf(name)}.entity.js';`),
    '',
    '/** Every entity the gateway serves, written by `npm run db:import`. */',
    `export const entities: (new () => object)[] = [${names.join(', ')}];`,
    '',
    `export { ${names.join(', ')} };`,
    '',
  ].join('\n');
}

/**
 * enums.ts: one constant per PostgreSQL enum, GraphQL value names to the database's values (see
 * enumValueNames in src/api/column-types.ts for how names are made), registered as GraphQL enums.
 */
export function enumsSource(enums: PlannedEnum[]): string {
  return [
    "import { registerEnumType } from 'type-graphql';",
    '',
    ...enums.flatMap((e) => [
      `/** PostgreSQL enum \`${e.nativeEnumName}\`. */`,
      `export const ${e.name} = {`,
      ...e.values.map((v) => `  ${v.graphql}: ${tsString(v.database)},`),
      '} as const;',
      `registerEnumType(${e.name}, { name: '${e.name}' });`,
      '',
    ]),
  ].join('\n');
}
