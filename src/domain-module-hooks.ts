/**
 * Node module hooks (run on Node's hooks thread, registered by domain-modules.ts) that load the files
 * of a domain's folder as the project's own files load. See domain-modules.ts for why.
 */
import { readFileSync } from 'node:fs';
import { type InitializeHook, type LoadHook, type ResolveHook } from 'node:module';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';

export interface DomainModuleHooksData {
  /** The domain's folder as a file URL ending in `/`. */
  folderUrl: string;
  /** The project's package.json as a file URL: packages are found from there. */
  projectPackageUrl: string;
  /** The project's tsconfig.json, as esbuild reads it. */
  tsconfig: string;
}

const folderUrls = new Set<string>();
let projectPackageUrl = '';
let tsconfig = '';

export const initialize: InitializeHook<DomainModuleHooksData> = (data) => {
  folderUrls.add(data.folderUrl);
  ({ projectPackageUrl, tsconfig } = data);
};

const isInDomainFolder = (url: string | undefined) =>
  url !== undefined &&
  !url.includes('/node_modules/') &&
  [...folderUrls].some((folder) => url.startsWith(folder));

/** `type-graphql`, `@mikro-orm/core`, `node:fs`: not a path, so looked up from the importer's folder upwards. */
const isPackageSpecifier = (specifier: string) => !/^(\.{0,2}\/|file:)/.test(specifier);

export const resolve: ResolveHook = (specifier, context, nextResolve) =>
  isInDomainFolder(context.parentURL) && isPackageSpecifier(specifier)
    ? nextResolve(specifier, { ...context, parentURL: projectPackageUrl })
    : nextResolve(specifier, context);

export const load: LoadHook = (url, context, nextLoad) => {
  const path = isInDomainFolder(url) ? fileURLToPath(url.split('?')[0]!) : undefined;
  if (!path?.endsWith('.ts')) return nextLoad(url, context);
  const { code } = transformSync(readFileSync(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    // As tsx compiles the project's own files: for this Node, with class and function names kept.
    target: `node${process.versions.node}`,
    keepNames: true,
    sourcemap: 'inline',
    sourcefile: path,
    tsconfigRaw: tsconfig,
  });
  return { format: 'module', source: code, shortCircuit: true };
};
