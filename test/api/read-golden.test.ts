import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * One small golden file per shape of read (test/api/golden/<shape>.txt): the document, who asks, the
 * SQL the compiler sends (one statement per root field) and the answer. What a reviewer reads when a
 * change moves the compiler's SQL; `vitest -u` rewrites them, and the diff is the review.
 */
const SHAPES: { name: string; user: string; document: string }[] = [
  {
    name: 'list-filtered-sorted',
    user: 'u1',
    document:
      '{ customers(limit: 3, where: { city: { eq: "London" } }, orderBy: [{ companyName: DESC }]) { id companyName city } }',
  },
  {
    name: 'nested-to-one-and-to-many',
    user: 'u1',
    document:
      '{ orders(limit: 2) { id customer { companyName } details(limit: 2) { quantity product { productName category { categoryName } } } } }',
  },
  { name: 'by-key', user: 's1', document: '{ order(id: "1") { id shipCity customer { id } } }' },
  { name: 'count-through-a-scope', user: 'u1', document: '{ ordersCount orderDetailsCount }' },
  {
    name: 'relation-count-and-page',
    user: 'u2',
    document: '{ customers(limit: 2) { id ordersCount orders(limit: 1, orderBy: [{ id: DESC }]) { id } } }',
  },
  {
    name: 'refused-field',
    user: 's1',
    document: '{ employees(limit: 2) { id lastName salary } }',
  },
];

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
