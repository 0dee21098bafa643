import { writeFile } from 'node:fs/promises';
import { format, resolveConfig } from 'prettier';

/** Writes source the CLIs generate formatted, so committed files pass `npm run lint` as they are. */
export async function writeFormatted(file: string, source: string): Promise<void> {
  await writeFile(file, await format(source, { ...(await resolveConfig(file)), filepath: file }));
}
