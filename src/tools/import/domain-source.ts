import { ENGINE_ENTRY, importPath } from './source-text.js';

/** The marker of an imported domain's index.ts: a second import replaces only what one wrote. */
export const IMPORTED_MARKER = 'Written by `npm run db:import`';

/**
 * `<folder>/index.ts` of an imported domain: its entities, its declarations and its migrations (the
 * generated policies only: the tables are the team's, no migration creates them), and no demo data.
 */
export function domainSource(folder: string): string {
  return [
    `// ${IMPORTED_MARKER}. Edit the declarations in declare-security.ts; run the import again`,
    '// (with --force) when the tables change.',
    `import { type Domain } from '${importPath(folder, ENGINE_ENTRY)}';`,
    "import policy from './declare-security.js';",
    "import { entities } from './entities.js';",
    "import { migrations } from './migrations/index.js';",
    '',
    `const domain: Domain = { folder: '${folder}', entities, policy, migrations };`,
    '',
    'export default domain;',
    '',
  ].join('\n');
}

/** `<folder>/migrations/index.ts` before `npm run security:migration` writes the first one. */
export const emptyMigrationIndex = [
  '// The committed migrations, oldest first. `npm run db:migration:create` and',
  '// `npm run security:migration` append new ones here.',
  "import { type MigrationObject } from '@mikro-orm/core';",
  '',
  'export const migrations: MigrationObject[] = [];',
  '',
].join('\n');
