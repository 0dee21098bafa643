import { readFile } from 'node:fs/promises';
import { generate } from '@graphql-codegen/cli';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { emitSchemaText, SCHEMA_FILE } from '../../src/api/schema-file.js';

describe('committed generated files', () => {
  it('schema/schema.graphql is what the entity classes emit (run `npm run codegen` after changing them)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(await emitSchemaText());
  });

  it('the typed documents under __generated__ match schema/operations (run `npm run codegen`)', async () => {
    const config = parse(await readFile('codegen.yml', 'utf8'));
    const outputs = await generate({ ...config, cwd: process.cwd(), silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(await readFile(output.filename, 'utf8'), output.filename).toBe(output.content);
    }
  });
});
