import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type DomainModuleHooksData } from './domain-module-hooks.js';

/**
 * Loads a domain's own files (entity classes, declarations, migrations) the way the project's files
 * load, wherever its folder is: inside the project but outside tsconfig.json's `include` (`db:import
 * -- --out nc-raw`), or outside the project (`--out /tmp/shop`).
 *
 * tsx compiles a file with tsconfig.json's compiler options only when that tsconfig's `include` (or
 * `files`) matches the file; any other file gets esbuild's defaults: standard decorators instead of
 * `experimentalDecorators`, class fields with define semantics. The entities' legacy decorators
 * (MikroORM's, type-graphql's) then get no target: `Cannot read properties of undefined (reading
 * 'constructor')`. And from a folder outside the project no `node_modules` is found, so `type-graphql`
 * cannot be imported at all. So the `.ts` files under a domain's folder are compiled by hooks of our
 * own (domain-module-hooks.ts), with the project's tsconfig.json, and the packages they import are
 * found from the project's root. Every other file (the engine's that a domain imports included) is
 * still tsx's, so no module is loaded twice.
 *
 * The hooks go through `module.register` (Node's hooks thread, beside tsx's) rather than the
 * in-thread `registerHooks`: in-thread hooks must hand on a source for every module, and Node's own
 * step gives none for a CommonJS package imported from ESM (`@apollo/protobufjs`).
 */

const PROJECT_ROOT = join(import.meta.dirname, '..');

const registeredFolders = new Set<string>();

/** From now on, the `.ts` files under `folder` (an absolute path) load as described above. */
export function loadDomainFilesFrom(folder: string): void {
  const folderUrl = pathToFileURL(folder.endsWith(sep) ? folder : folder + sep).href;
  if (registeredFolders.has(folderUrl)) return;
  registeredFolders.add(folderUrl);
  const data: DomainModuleHooksData = {
    folderUrl,
    projectPackageUrl: pathToFileURL(join(PROJECT_ROOT, 'package.json')).href,
    tsconfig: readFileSync(join(PROJECT_ROOT, 'tsconfig.json'), 'utf8'),
  };
  register('./domain-module-hooks.ts', { parentURL: import.meta.url, data });
}
