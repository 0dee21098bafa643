import { readFile } from 'node:fs/promises';
import { generate } from '@graphql-codegen/cli';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { emitSchemaText, SCHEMA_FILE } from '../../src/api/schema-file.js';
import { loadDomain } from '../../src/domain.js';

describe('committed generated files', () => {
  it('schema/schema.graphql is what the served domain (domain/) emits (run `npm run codegen` after changing it)', async () => {
    expect(await readFile(SCHEMA_FILE, 'utf8')).toBe(await emitSchemaText(await loadDomain('domain')));
  });

  it('the typed documents under __generated__ match their operations (run `npm run codegen`)', async () => {
    const config = parse(await readFile('codegen.yml', 'utf8'));
    const outputs = await generate({ ...config, cwd: process.cwd(), silent: true }, false);
    expect(outputs.map((output: { filename: string }) => output.filename).sort()).toEqual([
      'demo/northwind/__generated__/graphql.ts',
      'schema/__generated__/graphql.ts',
    ]);
    for (const output of outputs) {
      expect(await readFile(output.filename, 'utf8'), output.filename).toBe(output.content);
    }
  });
});
