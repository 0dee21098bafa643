import { readdir } from 'node:fs/promises';
import { writeFormatted } from './formatted-file.js';

/** Rewrites `<folder>/index.ts` to list every migration file of a domain, oldest first. */
export async function writeMigrationIndex(folder: string): Promise<void> {
  const files = (await readdir(folder)).filter((f) => /^Migration\d+.*\.ts$/.test(f)).sort();
  const names = files.map((f) => f.replace(/\.ts$/, ''));
  const file = `${folder}/index.ts`;
  const source = [
    '// The committed migrations, oldest first. `npm run db:migration:create` and',
    '// `npm run security:migration` append new ones here.',
    ...names.map((n) => `import { ${n} } from './${n}.js';`),
    '',
    `export const migrations = [${names.map((n) => `{ name: '${n}', class: ${n} }`).join(', ')}];`,
    '',
  ].join('\n');
  await writeFormatted(file, source);
}
