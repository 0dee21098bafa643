import { relative } from 'node:path';

/** `StaffSkill` → `staff-skill`, the project's file naming. */
export const fileBaseOf = (className: string) =>
  className
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();

/** `text` as a TypeScript string literal in the written source. */
export const tsString = (text: string) =>
  `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`;

/** The engine's public entry (src/index.ts): what every file a command writes into a domain imports. */
export const ENGINE_ENTRY = 'src/index.ts';

/** An import path from `fromDir` to a TypeScript module, as NodeNext resolution wants it (`.js`). */
export function importPath(fromDir: string, module: string): string {
  const path = relative(fromDir, module).replace(/\.ts$/, '.js');
  return path.startsWith('.') ? path : `./${path}`;
}
