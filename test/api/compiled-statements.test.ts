import { parse } from 'graphql';
import { MAX_KEPT_CHARACTERS } from '../../src/api/compiled-statements.js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Caller,
  signIn,
  startTestGateway,
  TEST_AUTH_CONFIG,
  type TestGateway,
} from '../helpers/test-gateway.js';

/**
 * The gateway keeps each read root field's compiled statement by document, variables and identity
 * (src/api/compiled-statements.ts). Read as an attacker would: the same parsed document sent by
 * different identities, alternately, must give each its own rows, its own field permissions and its
 * own page, exactly as a document compiled for it alone.
 */
let t: TestGateway;
let callerOf: (user: string) => Caller;
const users = ['u1', 'aneu', 'u2', 's1', 'p1', 'ALFKI', 'ANATR', 'sa'];
beforeAll(async () => {
  t = await startTestGateway();
  callerOf = await signIn(t, users);
});
afterAll(() => t?.close());

type Result = {
  data?: Record<string, unknown> | null;
  errors?: readonly { message: string; path?: readonly (string | number)[]; extensions?: object }[];
  statements: string[];
};
const run = (document: ReturnType<typeof parse>, variables: Record<string, unknown>, caller: Caller) =>
  t.executeCountingSql(document as never, variables, caller) as Promise<Result>;

/**
 * What a document answers when compiled for this request alone: the same selection under an operation
 * name no other request used (Apollo prints a parsed document and keeps it by that text).
 */
let fresh = 0;
const alone = (query: string, variables: Record<string, unknown>, caller: Caller) =>
  run(parse(query.replace(/^(query)?\s*/, `query Alone${++fresh} `)), variables, caller);

/** The answer as a client sees it: data and each error's path and code. */
const answer = (result: Result) => ({
  data: result.data,
  errors: result.errors?.map((error) => ({ path: error.path, extensions: error.extensions })),
});

const secret = new TextEncoder().encode(TEST_AUTH_CONFIG.jwtSecret);
/** A caller whose token carries these roles and attributes, as an identity provider might send them. */
async function callerWith(roles: string[], attributes: Record<string, unknown>): Promise<Caller> {
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ roles, attributes, jti: `t${++fresh}` })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setSubject('forged')
    .setIssuer('grantgate')
    .setAudience('grantgate')
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(secret);
  return { authorization: `Bearer ${token}` } as Caller;
}

/**
 * Sends `query` with each caller in turn, three rounds, and expects every answer to equal the one the
 * same caller got from the document compiled for it alone; returns those reference answers.
 */
async function expectOwnAnswers(
  query: string,
  callers: [string, Caller, Record<string, unknown>][],
): Promise<unknown[]> {
  const references = [];
  for (const [, caller, variables] of callers) references.push(answer(await alone(query, variables, caller)));
  const shared = parse(query);
  for (let round = 0; round < 3; round++) {
    for (const [index, [name, caller, variables]] of callers.entries()) {
      const result = await run(shared, variables, caller);
      expect({ name, round, ...answer(result) }).toEqual({ name, round, ...(references[index] as object) });
      expect(result.statements.length).toBeGreaterThan(0);
    }
  }
  return references;
}

describe('compiled statements are kept per document, variables and identity', () => {
  it('a repeat read runs the same statement without compiling it again', async () => {
    const query = parse('{ orders(limit: 3) { id customer { companyName } details { quantity } } }');
    const before = t.requestContext.statements!.size;
    const first = await run(query, {}, callerOf('u1'));
    expect(t.requestContext.statements!.size).toBe(before + 1);
    const second = await run(query, {}, callerOf('u1'));
    expect(t.requestContext.statements!.size).toBe(before + 1);
    expect(second.statements).toEqual(first.statements);
    expect(second.data).toEqual(first.data);
    expect(first.errors).toBeUndefined();
  });

  it('users of different roles and tenants, alternately, each get their own rows', async () => {
    const references = await expectOwnAnswers(
      '{ customers(limit: 200, orderBy: [{ id: ASC }]) { id companyName } orders(limit: 5, orderBy: [{ id: ASC }]) { id customer { id } details(limit: 2) { id } } customersCount }',
      users.map((user) => [user, callerOf(user), {}]),
    );
    // The test has teeth: the identities do not all see the same rows.
    expect(new Set(references.map((reference) => JSON.stringify(reference))).size).toBeGreaterThan(3);
  });

  it('users of the same roles and different attribute values get their own rows', async () => {
    const [alfki, anatr] = await expectOwnAnswers('{ customers(limit: 200) { id } ordersCount }', [
      ['ALFKI', callerOf('ALFKI'), {}],
      ['ANATR', callerOf('ANATR'), {}],
    ]);
    expect(alfki).not.toEqual(anatr);
  });

  it('attributes that are lists of different lengths, a scalar, or missing get their own rows', async () => {
    const callers: [string, Caller, Record<string, unknown>][] = [
      ['one value', await callerWith(['tenant'], { clientId: 1 }), {}],
      ['a list of one', await callerWith(['tenant'], { clientId: [1] }), {}],
      ['a list of two', await callerWith(['tenant'], { clientId: [1, 2] }), {}],
      ['another value', await callerWith(['tenant'], { clientId: 2 }), {}],
      ['missing', await callerWith(['tenant'], {}), {}],
      ['a string', await callerWith(['tenant'], { clientId: '1' }), {}],
    ];
    const references = await expectOwnAnswers('{ customers(limit: 200) { id } customersCount }', callers);
    expect(references[0]).not.toEqual(references[3]);
    expect(references[4]).toEqual({ data: { customers: [], customersCount: 0 }, errors: undefined });
  });

  it('field permissions follow the identity: a manager reads salaries, a tenant is refused them', async () => {
    const [u2, u1] = await expectOwnAnswers(
      '{ employees(limit: 3, orderBy: [{ id: ASC }]) { id salary } employee(id: "1") { salary } }',
      [
        ['u2', callerOf('u2'), {}],
        ['u1', callerOf('u1'), {}],
        ['sam', await callerWith(['dev', 'manager'], { clientId: 2, region: 'North America' }), {}],
      ],
    );
    expect(JSON.stringify(u2)).not.toContain('FORBIDDEN');
    expect(JSON.stringify(u1)).toContain('FORBIDDEN');
  });

  it('a relation refused to one identity is refused from the kept statement too, and read for another', async () => {
    // u1 may not filter on salary: the nested list is left out of its statement, and the refusal,
    // kept with the statement, is what the field answers on every later request.
    const [u2, u1] = await expectOwnAnswers(
      '{ departments(limit: 2, orderBy: [{ id: ASC }]) { id employees(where: { salary: { gt: 0 } }, limit: 2) { id } } }',
      [
        ['u2', callerOf('u2'), {}],
        ['u1', callerOf('u1'), {}],
      ],
    );
    expect(JSON.stringify(u2)).not.toContain('FORBIDDEN');
    expect(u1).toMatchObject({
      errors: [{ path: ['departments', 0, 'employees'], extensions: { code: 'FORBIDDEN' } }],
    });
  });

  it('variables decide the page, the condition, the key and the fields', async () => {
    const u1 = callerOf('u1');
    await expectOwnAnswers(
      'query($n: Int, $ids: [String!], $id: ID!, $city: Boolean!) { customers(limit: $n, where: { id: { in: $ids } }, orderBy: [{ id: ASC }]) { id city @include(if: $city) } customer(id: $id) { id } customersCount(where: { id: { in: $ids } }) }',
      [
        ['one', u1, { n: 1, ids: ['ALFKI', 'ANATR', 'ANTON'], id: 'ALFKI', city: true }],
        ['two', u1, { n: 2, ids: ['ALFKI', 'ANATR', 'ANTON'], id: 'ANATR', city: false }],
        ['a list of two', u1, { n: 5, ids: ['ALFKI', 'ANTON'], id: 'ANTON', city: true }],
        ['a list of four', u1, { n: 5, ids: ['ALFKI', 'ANATR', 'ANTON', 'AROUT'], id: 'X', city: true }],
      ],
    );
  });

  it('a statement larger than MAX_KEPT_CHARACTERS runs and is not kept, its literals counted', async () => {
    // A document's long literal is a parameter of its statement, not part of its key.
    const long = 'x'.repeat(MAX_KEPT_CHARACTERS);
    const query = parse(`{ customers(where: { companyName: { eq: "${long}" } }) { id } }`);
    const before = t.requestContext.statements!.size;
    const result = await run(query, {}, callerOf('u1'));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ customers: [] });
    expect(t.requestContext.statements!.size).toBe(before);
    // A short one of the same shape is kept.
    await run(parse('{ customers(where: { companyName: { eq: "x" } }) { id } }'), {}, callerOf('u1'));
    expect(t.requestContext.statements!.size).toBe(before + 1);
  });

  it('a mutation’s read-back is never kept (it reads the row it wrote)', async () => {
    const before = t.requestContext.statements!.size;
    const result = await run(
      parse('mutation($city: String) { updateOrder(id: "1", input: { shipCity: $city }) { id shipCity } }'),
      { city: 'Lyon' },
      callerOf('sa'),
    );
    expect(result.errors).toBeUndefined();
    expect(t.requestContext.statements!.size).toBe(before);
  });
});
