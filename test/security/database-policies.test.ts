import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareSecurity } from '../../security/system/policy.js';
import { policyStatements } from '../../security/system/database-policies.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import northwind from '../../demo/northwind/index.js';
import {
  declaredPolicyStatements,
  latestSecurityMigration,
} from '../../security/database/security-migrations.js';
import { runProjectCli } from '../helpers/project-cli.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

/** A module's variable: a filter that reads it would mean another thing once it changed. */
const MODULE_REGION = 'British Isles';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

describe('policies generated from the declarations', () => {
  it('are what the newest committed *_row_security migration applies (run npm run security:migration otherwise)', () => {
    expect(latestSecurityMigration(northwind)?.statements).toEqual(declaredPolicyStatements(northwind));
  });

  it('mirror each global filter on every table with its attribute, exempting its roles and the superuser, each table’s filtered grants, and each scope', () => {
    const plan = t.model.databasePolicies;
    const rowPolicies = plan.policies.filter((p) => !p.name.startsWith('grantgate_may_'));
    expect(rowPolicies.map((p) => `${p.table}.${p.name}`)).toEqual([
      'category.grantgate_clientId',
      'customer.grantgate_clientId',
      'department.grantgate_securityLevel',
      'customer.grantgate_region',
      'employee.grantgate_region',
      'supplier.grantgate_region',
      'product.grantgate_discontinued',
      'customer.grantgate_grants',
      'order.grantgate_scope',
      'order_detail.grantgate_scope',
      'product.grantgate_scope',
    ]);
    expect(
      plan.policies.find((p) => p.table === 'order_detail' && p.name === 'grantgate_scope')!.expression,
    ).toBe(
      `(select current_setting('grantgate.superuser', true) = 'on') or exists (select 1 from "order" p where p."id" = "order_detail"."order_id")`,
    );
    expect(plan.attributes).toEqual(['clientId', 'id', 'region']);
    const region = plan.policies.find((p) => p.name === 'grantgate_region')!;
    expect(region.expression).toContain(`'{"sa","manager","tenant","renter","public"}'::text[]`);
    expect(region.expression).toContain(
      `"region" = (select nullif(current_setting('grantgate.user.region', true), '')`,
    );
  });

  it('carry each verb on every table, per command: the roles that have it; field writes by a trigger', () => {
    const plan = t.model.databasePolicies;
    const verbs = plan.policies.filter((p) => p.name.startsWith('grantgate_may_'));
    expect(verbs).toHaveLength(9 * 4);
    const on = (table: string, name: string) => verbs.find((p) => p.table === table && p.name === name)!;
    const may = (roles: string, restricted = true) =>
      `(select grantgate_may('${roles}'::text[], ${restricted}))`;
    // Shared rows: read by every role with a role permission (the customer role has only its grant on
    // Customer), written by a grant's role only (none for shippers, whose rows no rule restricts).
    expect(on('shipper', 'grantgate_may_read')).toMatchObject({
      command: 'select',
      expression: may('{"manager","public","renter","sales","tenant"}', false),
    });
    expect(on('shipper', 'grantgate_may_insert')).toMatchObject({
      command: 'insert',
      expression: may('{}', false),
    });
    expect(on('employee', 'grantgate_may_update')).toMatchObject({
      expression: may('{"manager"}'),
      using: `(select current_setting('grantgate.superuser', true) in ('on', 'off'))`,
    });
    expect(on('employee', 'grantgate_may_delete').expression).toBe(may('{}'));
    // Only tenants delete orders; the customer role has verbs on Customer alone.
    expect(on('order', 'grantgate_may_delete').expression).toBe(may('{"tenant"}'));
    expect(on('customer', 'grantgate_may_delete').expression).toBe(
      may('{"customer","public","sales","tenant"}'),
    );
    expect(plan.fieldWrites).toEqual([
      { table: 'employee', columns: [{ column: 'salary', roles: ['manager'] }] },
    ]);
  });

  it('render every filter, $or and null included, and admit no row to a user without an attribute it reads', async () => {
    const custom = declareSecurity(({ globalFilter }) => {
      globalFilter('clientId', (user) => ({ clientId: user.clientId }), { rolesNotFiltered: [] });
      globalFilter('region', (user) => ({ $or: [{ region: user.region }, { region: null }] }), {
        rolesNotFiltered: [],
      });
    });
    const plan = compileSecurityModel(custom, t.orm.getMetadata()).databasePolicies;
    const region = plan.policies.find((p) => p.table === 'customer' && p.name === 'grantgate_region')!;
    const setting = `(select nullif(current_setting('grantgate.user.region', true), '')`;
    expect(region.expression).toContain(
      `${setting}) is not null and ("region" = ${setting}::varchar(40)) or "region" is null)`,
    );
    // The expression as PostgreSQL reads it, on the rows: those of the region and those without one;
    // none when the user has no region.
    const filter = region.expression.replace(/^\(.*?\) or /, '');
    const count = async (value: string) => {
      const client = t.db.sql;
      await client.query('begin');
      try {
        await client.query(`select set_config('grantgate.user.region', $1, true)`, [value]);
        return (await client.query<{ n: number }>(`select count(*)::int as n from customer where ${filter}`))
          .rows[0]!.n;
      } finally {
        await client.query('rollback');
      }
    };
    const expected = async (where: string) =>
      (await t.db.sql.query<{ n: number }>(`select count(*)::int as n from customer where ${where}`)).rows[0]!
        .n;
    expect(await count('British Isles')).toBe(await expected(`region = 'British Isles' or region is null`));
    expect(await count('British Isles')).toBeGreaterThan(await expected('region is null'));
    expect(await count('')).toBe(0);
  });

  it.each([
    ['it calls code', () => ({ discontinued: String(Date.now()).length > 3 })],
    ['it reads the clock', () => ({ securityLevel: { $lt: new Date().getHours() } })],
    ['it reads a variable of its module', () => ({ region: MODULE_REGION })],
    [
      'it computes with the user',
      (user: Record<string, unknown>) => ({ clientId: Number(user.clientId) + 1 }),
    ],
    [
      'it decides per user',
      (user: Record<string, unknown>) => (user.vip ? { securityLevel: 1 } : { securityLevel: 0 }),
    ],
  ])('refuse a filter that cannot be captured, in one line naming it: %s', (_why, filter) => {
    const custom = declareSecurity(({ globalFilter }) => {
      // Recent rows only.
      globalFilter('securityLevel', filter as never, { rolesNotFiltered: [] });
    });
    expect(() => compileSecurityModel(custom, t.orm.getMetadata())).toThrow(
      /^global filter "securityLevel" \("Recent rows only\."\) is not a condition every layer can apply: it [^\n]+; write it as an object of literals and currentUser\.<attribute>$/,
    );
  });

  it('replace the whole previous set when applied again, with row security on each table a rule restricts', () => {
    const statements = policyStatements(t.model.databasePolicies);
    expect(statements[0]).toMatch(/drop policy/);
    expect(
      statements.filter((s) => s.endsWith('enable row level security, force row level security;')),
    ).toHaveLength(9);
  });
});

describe('npm run security:check', () => {
  const check = (...args: string[]) =>
    runProjectCli('src/tools/cli/security-check.ts', args, { databaseUrl: t.db.url });

  it('finds no drift on a migrated database', async () => {
    const result = await check();
    expect(result.stdout).toMatch(
      /policies match the declarations \(47 policies on 9 tables, field writes checked on 1\)/,
    );
    expect(result.stdout).toContain(
      'Row-level security, forced, on 8 table(s) whose rows the declarations restrict: category, customer, department, employee, order, order_detail, product, supplier.',
    );
    expect(result.stdout).toContain(
      'Verbs only on 1 table(s) no rule restricts rows of, which every other client reads and writes as before: shipper.',
    );
    expect(result.code).toBe(0);
  });

  it('lists missing, extra and different policies and unforced tables, with exit code 1; --apply restores them', async () => {
    await t.db.sql.query(`
      drop policy "grantgate_region" on supplier;
      create policy "grantgate_extra" on shipper using (true);
      alter table product no force row level security;
      drop policy "grantgate_clientId" on category;
      create policy "grantgate_clientId" on category as restrictive using (client_id = 1);
      drop trigger grantgate_field_writes on employee;`);
    const result = await check();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/5 difference\(s\)/);
    expect(result.stdout).toMatch(/missing: employee grantgate_field_writes/);
    expect(result.stdout).toMatch(/missing: supplier grantgate_region/);
    expect(result.stdout).toMatch(/extra: shipper grantgate_extra/);
    expect(result.stdout).toMatch(/different: category grantgate_clientId — is \(client_id = 1\)/);
    expect(result.stdout).toMatch(/not enforced: product — row level security is not forced/);

    expect((await check('--apply')).code).toBe(0);
    expect((await check()).code).toBe(0);
  });
});
