import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RequestTransaction } from '../../src/db/request-transaction.js';
import { SHAPES } from '../api/read-shapes.js';
import { type Caller, signIn, startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * Over HTTP, a read whose every field PostgreSQL can write as the response does is answered with
 * PostgreSQL's JSON as it is (src/http/response-splices.ts). The differential: each document's
 * response body, byte for byte, with answers from PostgreSQL and with rows completed by graphql-js
 * (`answersFromDatabase: false`), the same gateway, data and caller.
 */
const PAGES = '{ customers(limit: 100) { id companyName contactName city country } }';
const NOT_ANSWERED = [
  'count-through-a-scope',
  'refused-field',
  'refused-field-nested',
  'bad-nested-argument',
];
const DOCUMENTS: { name: string; user: string; document: string; answered: boolean }[] = [
  // Counts are numbers already; a refused field or argument is an error graphql-js raises at its place.
  ...SHAPES.map((shape) => ({ ...shape, answered: !NOT_ANSWERED.includes(shape.name) })),
  // compare.sh's and bench:beyond-compare's reads.
  { name: 'S1', user: 's1', document: '{ customers { id companyName } }', answered: true },
  { name: 'S2', user: 'u1', document: PAGES, answered: true },
  {
    name: 'S3',
    user: 'u1',
    document:
      '{ orders(limit: 50) { id customer { companyName } details { quantity product { productName category { categoryName } } } } }',
    answered: true,
  },
  {
    name: 'X1',
    user: 'u1',
    document:
      '{ customers(limit: 20, orderBy: [{ id: ASC }]) { id companyName orders(limit: 3, orderBy: [{ id: DESC }]) { id freight details(limit: 2) { quantity } } } }',
    answered: true,
  },
  // Floats and timestamps written as JavaScript writes them; __typename, aliases, fragments.
  {
    name: 'kinds-and-names',
    user: 'u2',
    document:
      'query { __typename o: orders(limit: 30, orderBy: [{ freight: DESC }]) { __typename ...f freight id shippedDate w: freight } } fragment f on Order { orderDate amountTotal customer { __typename id } }',
    answered: true,
  },
  {
    name: 'float-extremes',
    user: 'u2',
    document:
      '{ high: orders(limit: 6, orderBy: [{ freight: DESC }]) { id freight } low: orders(limit: 2, orderBy: [{ freight: ASC }]) { id freight } }',
    answered: true,
  },
  // Several root fields: answered ones, a count, an aggregate and a connection that graphql-js
  // completes, a by-key field that finds nothing, one refused (BAD_USER_INPUT) beside them.
  {
    name: 'mixed-root-fields',
    user: 'u1',
    document:
      '{ a: customers(limit: 2) { id } ordersCount b: customer(id: "NOPE") { id } c: orders(limit: -1) { id } d: ordersAggregate { count } e: ordersConnection(first: 2) { edges { node { id } } } f: order(id: "x") { id } }',
    answered: true,
  },
  // An alias PostgreSQL could not name a column after (over 63 bytes): graphql-js answers.
  {
    name: 'long-alias',
    user: 'u1',
    document: `{ customers(limit: 2) { ${'x'.repeat(64)}: id } }`,
    answered: false,
  },
];

let t: TestGateway;
let url: string;
let callerOf: (user: string) => Caller;
beforeAll(async () => {
  t = await startTestGateway();
  // Floats of 2^53 and more, whose shortest digits JavaScript may write one shorter than PostgreSQL
  // (a decimal halfway between two doubles), and past 1e21, where both write an exponent: on orders
  // of u2's tenant, whose `kinds-and-names` and `float-extremes` read them.
  await t.db.sql.query(`update "order" set freight = v.freight from (values
      (1, 74373165526024200::float8), (2, 41057267764077060), (3, 9007199254740993), (4, 1.5e21),
      (5, -2.5e22), (6, 1.7976931348623157e308)) as v(n, freight),
    (select o.id, row_number() over (order by o.id) as n from "order" o
      join customer c on c.id = o.customer_id where c.client_id = 2) as tenant_orders
    where tenant_orders.n = v.n and "order".id = tenant_orders.id`);
  url = await t.gateway.listen(0, '127.0.0.1');
  callerOf = await signIn(t, [...new Set(DOCUMENTS.map((each) => each.user))]);
});
afterAll(() => t?.close());

/** The response body of `document` over HTTP, and the statements it ran. */
async function post(document: string, caller: Caller, answers: boolean) {
  t.requestContext.answersFromDatabase = answers;
  const statements: string[] = [];
  const stop = t.queryLog.listen((sql) => statements.push(sql));
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: caller!.authorization! },
      body: JSON.stringify({ query: document }),
    });
    return { status: response.status, body: await response.text(), statements };
  } finally {
    stop();
    t.requestContext.answersFromDatabase = undefined;
  }
}

describe('answers from PostgreSQL over HTTP', () => {
  it.each(DOCUMENTS.map((each) => [each.name, each] as const))(
    '%s: the same bytes as graphql-js completes',
    async (_name, { user, document, answered }) => {
      const fromDatabase = await post(document, callerOf(user), true);
      const completed = await post(document, callerOf(user), false);
      expect(fromDatabase.status).toBe(completed.status);
      expect(fromDatabase.body).toBe(completed.body);
      expect(fromDatabase.statements.some((sql) => sql.includes('row_to_json'))).toBe(answered);
      expect(completed.statements.some((sql) => sql.includes('row_to_json'))).toBe(false);
    },
  );

  it('an answer is left out where an error nulls the data it would go in', async () => {
    // `customers` is answered, then the request's one non-null sibling fails: no data at all.
    const document = '{ customers(limit: 2) { id } orders(limit: -1) { id } }';
    const body = JSON.parse((await post(document, callerOf('u1'), true)).body) as Record<string, unknown>;
    expect(body.data).toBeNull();
    expect(JSON.stringify(body)).not.toContain('@grantgate:');
  });

  it('answers go into the data that stands when the transaction’s end fails after an error', async () => {
    // The transaction ends (its connection goes back to the pool), and then its end is reported failed.
    const end = RequestTransaction.prototype.close;
    const failing = async function (this: RequestTransaction) {
      await end.call(this);
      throw new Error('lost');
    };
    const close = vi.spyOn(RequestTransaction.prototype, 'close').mockImplementationOnce(failing);
    try {
      const document = '{ a: customers(limit: 2, orderBy: [{ id: ASC }]) { id } f: order(id: "x") { id } }';
      const fromDatabase = await post(document, callerOf('u1'), true);
      close.mockImplementationOnce(failing);
      const completed = await post(document, callerOf('u1'), false);
      expect(fromDatabase.body).toBe(completed.body);
      const body = JSON.parse(fromDatabase.body) as { data: { a: unknown[] }; errors: unknown[] };
      expect(body.data.a).toHaveLength(2);
      expect(body.errors).toHaveLength(1);
    } finally {
      close.mockRestore();
    }
  });

  it('a null in a field the schema says is non-null is an error, not a null (a database drifted from its entity)', async () => {
    await t.db.sql.query(`alter table customer alter column company_name drop not null;
      update customer set company_name = null where id = (select min(id) from customer where client_id = 1)`);
    try {
      const document = '{ customers(limit: 2, orderBy: [{ id: ASC }]) { id companyName } }';
      for (const answers of [true, false]) {
        const body = JSON.parse((await post(document, callerOf('u1'), answers)).body) as Record<
          string,
          unknown
        >;
        expect(body.data).toBeNull();
        expect(body.errors).toEqual([
          expect.objectContaining({ extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }) }),
        ]);
      }
    } finally {
      await t.db.sql.query(`update customer set company_name = 'Restored' where company_name is null;
        alter table customer alter column company_name set not null`);
    }
  });

  it('a value that looks like the answer token stays a value', async () => {
    // The token holds a random nonce per request: a value cannot be replaced by an answer.
    const document =
      '{ a: customers(limit: 1, orderBy: [{ id: ASC }]) { id } b: customers(limit: 1, orderBy: [{ id: DESC }]) { id } }';
    const { body } = await post(document, callerOf('u1'), true);
    const parsed = JSON.parse(body) as { data: { a: { id: string }[]; b: { id: string }[] } };
    expect(parsed.data.a).toHaveLength(1);
    expect(parsed.data.b).toHaveLength(1);
    expect(parsed.data.a[0]!.id).not.toBe(parsed.data.b[0]!.id);
  });
});
