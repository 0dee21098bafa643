import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type GatewayProcess, loginAs, startGatewayProcess } from '../helpers/gateway-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';

/**
 * SPEC §12, traces: a gateway with OTEL_EXPORTER_OTLP_ENDPOINT exports its spans by OTLP (HTTP, JSON)
 * to a receiver this test runs; one trace per request, continuing the client's `traceparent`, with
 * spans for parsing, validation, each root field and each SQL statement with the rules it applied —
 * and no value in them.
 */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

let db: TestDatabase;
let gateway: GatewayProcess;
let receiver: Server;
const spans: OtlpSpan[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const { resourceSpans } = JSON.parse(body) as {
          resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
        };
        for (const resource of resourceSpans)
          for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  db = await createTestDatabase();
  gateway = startGatewayProcess({
    DATABASE_URL: db.url,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  await gateway.url;
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await db?.drop();
  receiver?.close();
});

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';

async function post(query: string, token: string, traceparent = `00-${TRACE_ID}-${CLIENT_SPAN}-01`) {
  const response = await fetch(await gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, traceparent },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: unknown; errors?: unknown };
}

const attribute = (span: OtlpSpan, key: string) => {
  const value = span.attributes?.find((candidate) => candidate.key === key)?.value;
  return value && Object.values(value)[0];
};

describe('traces', () => {
  it('continue the client’s trace: a nested read is one request span, parse, validate, its field and one SQL statement, without values', async () => {
    const { accessToken } = await loginAs(await gateway.url, 'u1');
    const read = await post(
      '{ customers(where: { companyName: { eq: "Secret Trading Co" } }, limit: 5) { id orders(limit: 2) { id details { quantity product { productName } } } } }',
      accessToken,
    );
    expect(read.errors).toBeUndefined();
    const request = await vi.waitFor(
      () => {
        const found = spans.find((span) => span.name === 'graphql request' && span.traceId === TRACE_ID);
        if (!found) throw new Error(`no request span among ${spans.map((span) => span.name).join(', ')}`);
        return found;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(request.parentSpanId).toBe(CLIENT_SPAN);
    const children = (parent: OtlpSpan) => spans.filter((span) => span.parentSpanId === parent.spanId);
    const names = children(request).map((span) => span.name);
    expect(names).toEqual(
      expect.arrayContaining(['graphql.parse', 'graphql.validate', 'graphql.field customers']),
    );
    const field = children(request).find((span) => span.name === 'graphql.field customers')!;
    const statements = children(field);
    expect(statements.map((span) => span.name)).toEqual(['sql']);
    expect(attribute(statements[0]!, 'db.system')).toBe('postgresql');
    expect(String(attribute(statements[0]!, 'db.statement'))).toMatch(/^select /);
    // The rules that limited what it read, by label: the tenant's, and each level's scope.
    const rules = (
      attribute(statements[0]!, 'grantgate.rules') as { values: { stringValue: string }[] }
    ).values.map((value) => value.stringValue);
    expect(rules).toEqual(
      expect.arrayContaining([
        'Everyone but the superuser sees only the rows of their own tenant; every entity must be covered.',
        "An order belongs to its customer's tenant.",
        "An order line belongs to its order's tenant.",
      ]),
    );
    expect(JSON.stringify(spans)).not.toMatch(/Secret Trading/);
  });

  it('carry no value of a write: MikroORM’s statements are exported with ? for each literal', async () => {
    const { accessToken } = await loginAs(await gateway.url, 'sa');
    const written = await post(
      'mutation { createShipper(input: { companyName: "Literal Shipper 7", phone: "555-0199" }) { id } }',
      accessToken,
    );
    expect(written.errors).toBeUndefined();
    await vi.waitFor(
      () => {
        const inserts = spans.filter((span) => /^insert into/.test(String(attribute(span, 'db.statement'))));
        if (inserts.length === 0) throw new Error('no insert exported yet');
      },
      { timeout: 10_000, interval: 100 },
    );
    const exported = JSON.stringify(spans);
    expect(exported).not.toMatch(/Literal Shipper|555-0199/);
  });

  it('leave out a request the client did not sample, and all below it, while answering it in full', async () => {
    const { accessToken } = await loginAs(await gateway.url, 'u1');
    const unsampled = '5cf92f3577b34da6a3ce929d0e0e4799';
    const sampled = '6df92f3577b34da6a3ce929d0e0e4700';
    const query = '{ customers(limit: 2, orderBy: [{ id: ASC }]) { id orders(limit: 1) { id } } }';
    const left = await post(query, accessToken, `00-${unsampled}-${CLIENT_SPAN}-00`);
    const kept = await post(query, accessToken, `00-${sampled}-${CLIENT_SPAN}-01`);
    expect(left).toEqual(kept);
    expect((left.data as { customers: unknown[] }).customers).toHaveLength(2);
    // Spans are exported in the order they end: once the later request's statement is in, the
    // earlier one's would be too.
    await vi.waitFor(
      () => {
        if (!spans.some((span) => span.traceId === sampled && span.name === 'sql'))
          throw new Error('the sampled request is not exported yet');
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(spans.filter((span) => span.traceId === unsampled)).toEqual([]);
  });
});
