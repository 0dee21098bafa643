import { writeFile } from 'node:fs/promises';
import { format, resolveConfig } from 'prettier';

/** `source` formatted as the project's prettier settings format `file`, so generated files pass `npm run lint`. */
export async function formatted(file: string, source: string): Promise<string> {
  return format(source, { ...(await resolveConfig(file)), filepath: file });
}

/** Writes source the CLIs generate formatted, so committed files pass `npm run lint` as they are. */
export async function writeFormatted(file: string, source: string): Promise<void> {
  await writeFile(file, await formatted(file, source));
}
