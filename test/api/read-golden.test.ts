import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';
import { SHAPES } from './read-shapes.js';

/**
 * One small golden file per shape of read (test/api/golden/<shape>.txt): the document, who asks, the
 * SQL the compiler sends (one statement per root field) and the answer. What a reviewer reads when a
 * change moves the compiler's SQL; `vitest -u` rewrites them, and the diff is the review. A rewritten
 * answer is read against the rules (demo/northwind/declare-security.ts) before it is kept:
 * a golden that records a leak would hold the leak in place.
 */
let t: TestGateway;
let callerOf: (user: string) => Caller;
beforeAll(async () => {
  t = await startTestGateway();
  callerOf = await signIn(t, [...new Set(SHAPES.map((shape) => shape.user))]);
});
afterAll(() => t?.close());

describe('the compiled read of each shape', () => {
  it.each(SHAPES.map((shape) => [shape.name, shape] as const))('%s', async (name, shape) => {
    const result = await t.executeCountingSql(parse(shape.document) as never, {}, callerOf(shape.user));
    const answer = { data: result.data, ...(result.errors ? { errors: result.errors } : {}) };
    const text = [
      `# ${shape.user} asks`,
      shape.document,
      `# SQL (${result.statements.length} statement${result.statements.length === 1 ? '' : 's'})`,
      ...result.statements,
      '# answer',
      JSON.stringify(answer, null, 2),
      '',
    ].join('\n');
    await expect(text).toMatchFileSnapshot(`./golden/${name}.txt`);
  });
});
