import { readdir, writeFile } from 'node:fs/promises';
import { format, resolveConfig } from 'prettier';
import { MIGRATIONS_FOLDER } from '../orm-config.js';

/** Rewrites migrations/index.ts to list every migration file, oldest first. */
export async function writeMigrationIndex(): Promise<void> {
  const files = (await readdir(MIGRATIONS_FOLDER)).filter((f) => /^Migration\d+.*\.ts$/.test(f)).sort();
  const names = files.map((f) => f.replace(/\.ts$/, ''));
  const file = `${MIGRATIONS_FOLDER}/index.ts`;
  const source = [
    '// The committed migrations, oldest first. `npm run db:migration:create` and',
    '// `npm run security:migration` append new ones here.',
    ...names.map((n) => `import { ${n} } from './${n}.js';`),
    '',
    `export const migrations = [${names.map((n) => `{ name: '${n}', class: ${n} }`).join(', ')}];`,
    '',
  ].join('\n');
  await writeFile(file, await format(source, { ...(await resolveConfig(file)), filepath: file }));
}
