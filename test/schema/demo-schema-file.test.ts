import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import northwind from '../../demo/northwind/index.js';
import { emitSchemaText } from '../../src/api/schema-file.js';

// Its own file (so its own process): a schema is built once per process and set of entity classes,
// and the served domain's may differ from the demo's after `npm run db:import`.
describe("the demo's schema", () => {
  it('demo/northwind/schema.graphql is what the demo emits (run `npm run codegen` after changing it)', async () => {
    expect(await readFile('demo/northwind/schema.graphql', 'utf8')).toBe(await emitSchemaText(northwind));
  });
});
