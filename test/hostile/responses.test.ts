import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_SETTINGS } from '../../src/gateway.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Every way a GraphQL server can suggest a name of its schema, as a stranger would probe for them. */
const PROBES: [string, { query: string; variables?: Record<string, unknown> }][] = [
  ['a misspelt field', { query: '{ customrs { id } }' }],
  ['a misspelt field of a type', { query: '{ customers { companyNam } }' }],
  ['a misspelt argument', { query: '{ customers(limt: 1) { id } }' }],
  ['a misspelt input field', { query: '{ customers(where: { companyNam: { eq: "a" } }) { id } }' }],
  ['a misspelt enum value', { query: '{ customers(orderBy: { id: ASCC }) { id } }' }],
  ['a misspelt type in a fragment', { query: '{ customers { ...F } } fragment F on Custome { id }' }],
  [
    'a misspelt type of a variable',
    { query: 'query($w: CustomerWher) { customers(where: $w) { id } }', variables: { w: {} } },
  ],
  [
    'a misspelt input field in a variable',
    {
      query: 'query($w: CustomerWhere) { customers(where: $w) { id } }',
      variables: { w: { companyNam: { eq: 'a' } } },
    },
  ],
  [
    'a misspelt enum value in a variable',
    {
      query: 'query($o: [CustomerOrderBy!]) { customers(orderBy: $o) { id } }',
      variables: { o: [{ id: 'ASCC' }] },
    },
  ],
];

async function post(url: string, body: string, contentType = 'application/json'): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

/** A body that is not JSON at all, or JSON that a GraphQL server cannot take. */
const MALFORMED_BODIES: [string, string][] = [
  ['an unterminated object', '{"query": "{ customersCount }"'],
  ['a bare word', 'hello'],
  ['a trailing comma', '{"query": "{ customersCount }",}'],
  ['a lone surrogate escape in a broken string', '{"query": "\\ud800'],
];

describe.each([
  ['production', true],
  ['development', false],
])('responses that reveal nothing (%s)', (_mode, production) => {
  let t: TestGateway;
  let url: string;
  let authorization: string;
  beforeAll(async () => {
    t = await startTestGateway({
      settings: { ...DEFAULT_GATEWAY_SETTINGS, production, introspection: !production },
    });
    url = await t.gateway.listen(0, '127.0.0.1');
    const login = await post(
      url,
      JSON.stringify({ query: 'mutation { login(username: "u1", password: "p") { accessToken } }' }),
    );
    authorization = `Bearer ${(JSON.parse(login.text) as { data: { login: { accessToken: string } } }).data.login.accessToken}`;
  });
  afterAll(() => t?.close());

  it.each(MALFORMED_BODIES)('%s answers a JSON error with status 400', async (_name, body) => {
    const answer = await post(url, body);
    expect(answer.status).toBe(400);
    expect(answer.contentType).toMatch(/^application\/json/);
    const parsed = JSON.parse(answer.text) as { errors: { message: string; extensions: { code: string } }[] };
    expect(parsed.errors).toEqual([
      { message: expect.stringMatching(/not valid JSON/), extensions: { code: 'BAD_REQUEST' } },
    ]);
    expect(answer.text).not.toMatch(/<html|<pre|\bat \w+ \(|node_modules|\/work\/|SyntaxError/i);
  });

  it('a malformed body on the login route answers its own JSON shape with status 400', async () => {
    const answer = await post(url.replace('/graphql', '/api/auth/login'), '{"username": "u1", "password"');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toEqual({ error: 'The request body is not valid JSON.' });
  });

  it('a path the gateway does not serve answers JSON 404, not an HTML page', async () => {
    const response = await fetch(url.replace('/graphql', '/etc/passwd'));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'Nothing is served at GET /etc/passwd.' });
  });

  // Development keeps the hints (they help whoever writes the queries), which also shows that every
  // probe is one that would get a hint.
  it.each(PROBES)(`%s gets ${production ? 'no' : 'its'} "Did you mean"`, async (_name, probe) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify(probe),
    });
    const text = await response.text();
    const errors = (JSON.parse(text) as { errors?: { message: string }[] }).errors;
    expect(errors?.length).toBeGreaterThan(0);
    if (production) expect(text).not.toMatch(/did you mean/i);
    else expect(text).toMatch(/Did you mean/);
  });
});
