import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../demo/northwind/demo-users.js';
import { pluralize } from '../../src/api/entity-model.js';
import { explainUser } from '../../src/explain/explain-user.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/**
 * `security:explain` must tell the truth: for every demo user, the rows it counts per entity are what
 * the GraphQL API's `<plural>Count` answers that user, and an entity it says the user may not read is
 * one the API refuses.
 */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

const countField = (entityName: string) =>
  `${pluralize(entityName[0]!.toLowerCase() + entityName.slice(1))}Count`;

describe('security:explain on the demo users', () => {
  it.each(DEMO_USERS.map((user) => [user.id]))(
    '%s: rows per entity equal what the API counts',
    async (id) => {
      const user = await t.auth.service.findUser(id);
      expect(user).not.toBeNull();
      const explanation = await explainUser(
        { orm: t.orm, model: t.model, databaseSecurity: t.requestContext.databaseSecurity },
        user!,
      );
      expect(explanation.user).toBe(id);
      const entities = Object.entries(explanation.entities);
      expect(entities.length).toBe(t.model.securedEntities().length);
      const caller = await t.callerFor(id);
      for (const [entityName, entity] of entities) {
        const field = countField(entityName);
        const result = await t.execute(parse(`{ ${field} }`) as never, {}, caller);
        if (entity.verbs.read) {
          expect(result.errors, `${id} ${entityName}`).toBeUndefined();
          expect(entity.rows, `${id} ${entityName}`).toBe((result.data as Record<string, number>)[field]);
        } else {
          expect(entity.rows).toBeUndefined();
          expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        }
      }
    },
  );

  it('gives different users different answers, so the comparison is not vacuous', async () => {
    const context = { orm: t.orm, model: t.model, databaseSecurity: t.requestContext.databaseSecurity };
    const rows = new Set<string>();
    for (const { id } of DEMO_USERS) {
      const explanation = await explainUser(context, (await t.auth.service.findUser(id))!);
      rows.add(JSON.stringify(Object.values(explanation.entities).map((entity) => entity.rows)));
    }
    expect(rows.size).toBeGreaterThanOrEqual(6);
  });

  it('shows shared entities read-only to tenants, and written by the role a grant names', async () => {
    const context = { orm: t.orm, model: t.model, databaseSecurity: t.requestContext.databaseSecurity };
    const shared = ['Shipper', 'Employee'];
    const u1 = await explainUser(context, (await t.auth.service.findUser('u1'))!, { entities: shared });
    const u2 = await explainUser(context, (await t.auth.service.findUser('u2'))!, { entities: shared });
    const readOnly = { read: true, create: false, update: false, delete: false };
    expect(u1.entities.Shipper!.verbs).toEqual(readOnly);
    expect(u1.entities.Employee!.verbs).toEqual(readOnly);
    expect(u1.entities.Shipper!.rules).toContainEqual({
      kind: 'shared',
      label: expect.stringMatching(/^Departments, employees, suppliers and shippers are the company's own/),
    });
    // u2 is a manager too: its grant on Employee gives it the writes, not on Shipper.
    expect(u2.entities.Shipper!.verbs).toEqual(readOnly);
    expect(u2.entities.Employee!.verbs).toEqual({ read: true, create: true, update: true, delete: false });
  });

  it('names each rule by the intent comment above its declaration', async () => {
    const s1 = (await t.auth.service.findUser('s1'))!;
    const context = { orm: t.orm, model: t.model, databaseSecurity: t.requestContext.databaseSecurity };
    const { entities } = await explainUser(context, s1, { entities: ['Customer'] });
    expect(Object.keys(entities)).toEqual(['Customer']);
    expect(entities.Customer!.rules).toEqual([
      {
        kind: 'role permission',
        label: 'Renters, managers, sales people and the public may read, insert and update, but not delete.',
      },
      { kind: 'grant', label: 'Sales people see customers with a credit limit over 300 ...' },
      { kind: 'grant', label: '... and customers whose contact is Mike.' },
      {
        kind: 'tenant filter',
        label:
          'Everyone but the superuser sees only the rows of their own tenant; every entity must be covered.',
      },
      { kind: 'global filter', label: 'Sales people and customers see only their own region.' },
    ]);
    expect(entities.Customer!.predicate).toBe(
      `("e0"."credit_limit" > 300 or "e0"."contact_name" = 'Mike') and "e0"."client_id" = 2 and "e0"."region" = 'British Isles'`,
    );
  });
});
