import { MikroORM } from '@mikro-orm/postgresql';
import { type GraphQLError } from 'graphql';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { FIELD_WRITES_TRIGGER } from '../../security/system/database-policies.js';
import { RequestSecurity } from '../../security/system/request-security.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import { buildEntityModels } from '../../src/api/entity-model.js';
import { toUserError } from '../../src/api/write-refusals.js';
import { createOrmOptions } from '../../src/db/orm-config.js';
import { QueryLog } from '../../src/db/query-log.js';
import { DATABASE_ENTITIES, fixturePolicyWith, Invoice } from './fixtures.js';

/**
 * What the gateway answers when PostgreSQL, not the gateway, refused a write: the second layer's
 * refusals of a verb (the permissive policy, which names no policy) and of a field (the field-writes
 * trigger) become the same FORBIDDEN, with the same rule, as the gateway's own check. The errors are
 * PostgreSQL's as the driver reports them (SQLSTATE, message, and the trigger's hint and column).
 */
const orm = new MikroORM(
  createOrmOptions({
    clientUrl: 'postgres://127.0.0.1/metadata-only',
    queryLog: new QueryLog(pino({ level: 'silent' })),
    entities: DATABASE_ENTITIES,
  }),
);
afterAll(() => orm.close());

const policy = fixturePolicyWith(({ restrictFields }) => {
  // Totals are the auditors'.
  restrictFields(Invoice, ['total'], 'auditor');
});
const model = compileSecurityModel(policy, orm.getMetadata());
const models = buildEntityModels(orm.getMetadata(), DATABASE_ENTITIES);
const modelOf = (name: string) => models.find((each) => each.name === name)!;

const refusal = (props: Record<string, string>) =>
  Object.assign(new Error(props.message), props) as Error & Record<string, string>;

async function answer(roles: string[], entity: string, verb: 'create' | 'update', error: Error) {
  const user = { id: 'u', roles, attributes: { clientId: 1 } };
  const em = orm.em.fork();
  return (await toUserError(error, em, modelOf(entity), verb, new RequestSecurity(model, user), {})) as
    GraphQLError | Error;
}

describe('a write PostgreSQL refused', () => {
  it('for a field the roles may not write: FORBIDDEN naming the field and its rule', async () => {
    const error = refusal({
      code: '42501',
      message: 'permission denied for column total of invoice',
      hint: FIELD_WRITES_TRIGGER,
      column: 'total',
    });
    const refused = (await answer(['tenant'], 'Invoice', 'update', error)) as GraphQLError;
    expect(refused.message).toBe(
      'User u with roles [tenant] does not have write access on field: Invoice.total',
    );
    expect(refused.extensions).toEqual({
      code: 'FORBIDDEN',
      rule: 'Totals are the auditors’.'.replace('’', "'"),
    });
  });

  it('for a verb the roles lack: FORBIDDEN naming the verb, as the gateway says it', async () => {
    const error = refusal({
      code: '42501',
      message: 'new row violates row-level security policy for table "country"',
    });
    const refused = (await answer(['tenant'], 'Country', 'create', error)) as GraphQLError;
    expect(refused.message).toBe('User u with roles [tenant] does not have insert access on entity: Country');
    expect(refused.extensions).toEqual({
      code: 'FORBIDDEN',
      rule: model.verbDenial({ id: 'u', roles: ['tenant'], attributes: {} }, 'Country', 'insert'),
    });
  });

  it('by a restrictive policy, or the permissive one when the roles have the verb: not visible after the change', async () => {
    const scope = refusal({
      code: '42501',
      message: 'new row violates row-level security policy "grantgate_scope" for table "invoice"',
    });
    const refused = (await answer(['tenant'], 'Invoice', 'create', scope)) as GraphQLError;
    expect(refused.extensions).toEqual({ code: 'BAD_USER_INPUT', rule: 'scope of Invoice through account' });
    const unnamed = refusal({
      code: '42501',
      message: 'new row violates row-level security policy for table "invoice"',
    });
    expect(
      ((await answer(['tenant'], 'Invoice', 'create', unnamed)) as GraphQLError).extensions,
    ).toMatchObject({
      code: 'BAD_USER_INPUT',
    });
  });
});
