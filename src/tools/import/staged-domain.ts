import { randomBytes } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import { emitSchemaText, SCHEMA_FILE } from '../../api/schema-file.js';
import { loadDomain } from '../../domain.js';
import { formatted } from '../cli/formatted-file.js';
import { fileBaseOf } from './source-text.js';
import { operationsSources } from './operations-source.js';

/** What an import writes besides the domain's own files, for the served domain only. */
export interface SchemaFiles {
  /** schema/schema.graphql */
  schema: string;
  /** schema/operations/<entity>.graphql, by file name */
  operations: Map<string, string>;
  /** schema/__generated__/graphql.ts */
  generated: string;
}

/** An import that stopped before writing anything: its message names what could not be served. */
export class ImportError extends Error {}

const SCHEMA_OPERATIONS = 'schema/operations';
const GENERATED = 'schema/__generated__/graphql.ts';

/**
 * Builds the domain in a folder of its own beside `folder` (same depth, so every relative import
 * holds), loads it as the gateway would, emits its GraphQL schema, writes and validates the typed
 * operations and, for the served domain, generates their types — all before anything is written
 * where it is kept. An error stops the import with nothing written; the staging folder is removed
 * either way. `files`: the domain's files by path inside the folder; `kept`: files of an earlier
 * import that stay (copied in for the load only).
 */
export async function stageDomain(
  folder: string,
  files: Map<string, string>,
  options: { kept: string[]; classNames: string[]; served: boolean; describe: (error: unknown) => string },
): Promise<{ files: Map<string, string>; schemaFiles?: SchemaFiles }> {
  const staging = join(dirname(folder), `${basename(folder)}-import-${randomBytes(4).toString('hex')}`);
  const rendered = new Map<string, string>();
  try {
    await mkdir(join(staging, 'migrations'), { recursive: true });
    for (const kept of options.kept) await cp(join(folder, kept), join(staging, kept), { recursive: true });
    for (const [file, source] of files) {
      const text = await formatted(join(folder, file), source).catch((error: unknown) => {
        throw new ImportError(options.describe(error));
      });
      rendered.set(file, text);
      await writeFile(join(staging, file), text);
    }
    let text: string;
    try {
      text = await emitSchemaText(await loadDomain(staging));
    } catch (error) {
      throw new ImportError(options.describe(error));
    }
    const schema = buildSchema(text);
    const operations = new Map<string, string>();
    for (const [name, source] of operationsSources(schema, options.classNames)) {
      const file = `${fileBaseOf(name)}.graphql`;
      const errors = validate(schema, parse(source));
      if (errors.length > 0)
        throw new ImportError(`the typed operations of ${name} do not validate: ${errors[0]!.message}`);
      operations.set(file, await formatted(join(SCHEMA_OPERATIONS, file), source));
    }
    if (!options.served) return { files: rendered };
    await mkdir(join(staging, 'operations'));
    await writeFile(join(staging, 'schema.graphql'), text);
    for (const [file, source] of operations) await writeFile(join(staging, 'operations', file), source);
    const generated = await generateTypes(join(staging, 'schema.graphql'), [
      join(SCHEMA_OPERATIONS, 'auth.graphql'),
      join(staging, 'operations/*.graphql'),
    ]);
    return { files: rendered, schemaFiles: { schema: text, operations, generated } };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** schema/__generated__/graphql.ts as codegen.yml makes it, for another schema and documents, unwritten. */
async function generateTypes(schema: string, documents: string[]): Promise<string> {
  // The code generator is a development tool: present wherever `npm install` ran.
  const { generate } = await import('@graphql-codegen/cli');
  const { parse: parseYaml } = await import('yaml');
  const config = parseYaml(await readFile('codegen.yml', 'utf8')) as {
    generates: Record<string, Record<string, unknown>>;
  };
  const [output] = (await generate(
    {
      ...config,
      generates: { [GENERATED]: { ...config.generates[GENERATED], schema, documents } },
      cwd: process.cwd(),
      silent: true,
    },
    false,
  )) as { filename: string; content: string }[];
  if (!output) throw new ImportError('the code generator produced nothing');
  return formatted(GENERATED, output.content);
}

/** Writes what `stageDomain` validated: the domain's files, and the served schema's when there are some. */
export async function writeStagedDomain(
  folder: string,
  staged: { files: Map<string, string>; schemaFiles?: SchemaFiles },
): Promise<void> {
  await mkdir(join(folder, 'migrations'), { recursive: true });
  // Entity classes of an earlier import whose table is gone go with it.
  for (const file of await readdir(folder))
    if ((file.endsWith('.entity.ts') || file === 'enums.ts') && !staged.files.has(file))
      await rm(join(folder, file));
  for (const [file, text] of staged.files) await writeFile(join(folder, file), text);
  const schemaFiles = staged.schemaFiles;
  if (!schemaFiles) return;
  await writeFile(SCHEMA_FILE, schemaFiles.schema);
  for (const file of await readdir(SCHEMA_OPERATIONS))
    if (file !== 'auth.graphql') await rm(join(SCHEMA_OPERATIONS, file));
  for (const [file, text] of schemaFiles.operations) await writeFile(join(SCHEMA_OPERATIONS, file), text);
  await writeFile(GENERATED, schemaFiles.generated);
}
