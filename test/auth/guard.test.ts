import {
  getNamedType,
  GraphQLEnumType,
  type GraphQLField,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLScalarType,
  parse,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGatewaySchema } from '../../src/api/schema.js';
import { PUBLIC_OPERATIONS } from '../../src/auth/require-user.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

/** A literal that passes validation for a required argument of this type. */
function dummy(type: GraphQLInputType): string {
  if (type instanceof GraphQLNonNull) return dummy(type.ofType);
  if (type instanceof GraphQLList) return `[${dummy(type.ofType)}]`;
  if (type instanceof GraphQLEnumType) return type.getValues()[0]!.name;
  if (type instanceof GraphQLInputObjectType) {
    const required = Object.values(type.getFields()).filter((field) => field.type instanceof GraphQLNonNull);
    return `{ ${required.map((field) => `${field.name}: ${dummy(field.type)}`).join(', ')} }`;
  }
  const scalar = type as GraphQLScalarType;
  return (
    { Int: '1', Float: '1.5', Boolean: 'true', DateTimeISO: '"2026-01-01T00:00:00Z"' }[scalar.name] ?? '"1"'
  );
}

function documentFor(operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const args = field.args
    .filter((arg) => arg.type instanceof GraphQLNonNull)
    .map((arg) => `${arg.name}: ${dummy(arg.type)}`);
  const selection = getNamedType(field.type) instanceof GraphQLScalarType ? '' : '{ __typename }';
  return `${operation} { ${field.name}${args.length ? `(${args.join(', ')})` : ''} ${selection} }`;
}

describe('every root field is either guarded or on the public list', () => {
  it('the public list names only login and refreshToken', () => {
    expect([...PUBLIC_OPERATIONS].sort()).toEqual(['login', 'refreshToken']);
  });

  it('without a token, each non-public query and mutation answers UNAUTHENTICATED and touches nothing', async () => {
    const schema = await buildGatewaySchema(t.orm, t.model);
    const fields = [
      ...Object.values(schema.getQueryType()!.getFields()).map((field) => ['query', field] as const),
      ...Object.values(schema.getMutationType()!.getFields()).map((field) => ['mutation', field] as const),
    ].filter(([, field]) => !PUBLIC_OPERATIONS.has(field.name));
    // The generic API (SPEC §4's six fields and §11's aggregate, group-by and connection), logout and me.
    expect(fields.length).toBe(9 * 9 + 2);
    const unguarded: string[] = [];
    for (const [operation, field] of fields) {
      const result = await t.executeCountingSql(
        parse(documentFor(operation, field)) as never,
        {},
        { authorization: null },
      );
      if (result.errors?.[0]?.extensions?.code !== 'UNAUTHENTICATED' || result.statements.length > 0) {
        unguarded.push(`${field.name}: ${JSON.stringify(result.errors ?? result.data)}`);
      }
    }
    expect(unguarded).toEqual([]);
  });
});
