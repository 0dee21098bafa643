import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { emitSchemaText } from '../../src/api/schema-file.js';
import northwind from '../fixtures/northwind/index.js';

// Its own file (so its own process), like the demo's: the copy's classes share the demo's names.
describe("the engine tests' Northwind copy", () => {
  it('test/fixtures/northwind/schema.graphql is what the copy emits (run `npm run codegen` after changing it)', async () => {
    expect(await readFile('test/fixtures/northwind/schema.graphql', 'utf8')).toBe(
      await emitSchemaText(northwind),
    );
  });
});
