import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareSecurity } from '../../security/system/policy.js';
import { policyStatements } from '../../security/system/database-policies.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import { prepareRowSecurity } from '../../src/db/row-security-setup.js';
import northwind from '../fixtures/northwind/index.js';
import { declaredPolicyStatements, latestSecurityMigration } from '../../src/db/security-migrations.js';
import { capturedLog } from '../helpers/captured-log.js';
import { runProjectCli } from '../helpers/project-cli.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

describe('policies generated from the declarations', () => {
  it('are what the newest committed *_row_security migration applies (run npm run security:migration otherwise)', () => {
    expect(latestSecurityMigration(northwind)?.statements).toEqual(declaredPolicyStatements(northwind));
  });

  it('mirror each global filter on every table with its attribute, exempting its roles and the superuser, and each scope', () => {
    const plan = t.model.databasePolicies;
    expect(plan.policies.map((p) => `${p.table}.${p.name}`)).toEqual([
      'category.grantgate_clientId',
      'customer.grantgate_clientId',
      'department.grantgate_securityLevel',
      'customer.grantgate_region',
      'employee.grantgate_region',
      'supplier.grantgate_region',
      'product.grantgate_discontinued',
      'order.grantgate_scope',
      'order_detail.grantgate_scope',
      'product.grantgate_scope',
    ]);
    expect(
      plan.policies.find((p) => p.table === 'order_detail' && p.name === 'grantgate_scope')!.expression,
    ).toBe(
      `(select current_setting('grantgate.superuser', true) = 'on') or exists (select 1 from "order" p where p."id" = "order_detail"."order_id")`,
    );
    expect(plan.attributes).toEqual(['clientId', 'region']);
    expect(plan.appOnly).toEqual([]);
    const region = plan.policies.find((p) => p.name === 'grantgate_region')!;
    expect(region.expression).toContain("array['sa', 'manager', 'tenant', 'renter', 'public']");
    expect(region.expression).toContain(
      `"region" = (select nullif(current_setting('grantgate.user.region', true), '')`,
    );
  });

  it('report a filter the database cannot express, by name, and leave it to the application layer', async () => {
    const custom = declareSecurity(({ globalFilter }) => {
      globalFilter('clientId', (user) => ({ clientId: user.clientId }), { rolesNotFiltered: [] });
      globalFilter('region', (user) => ({ $or: [{ region: user.region }, { region: null }] }), {
        rolesNotFiltered: [],
      });
      globalFilter('discontinued', (user) => ({ discontinued: String(user.flag).length > 3 }), {
        rolesNotFiltered: [],
      });
    });
    const model = compileSecurityModel(custom, t.orm.getMetadata());
    const plan = model.databasePolicies;
    expect(plan.policies.map((p) => p.name)).toEqual(['grantgate_clientId', 'grantgate_clientId']);
    expect(plan.appOnly).toEqual([
      { attribute: 'region', reason: '$or is not a column of Customer' },
      { attribute: 'discontinued', reason: 'it computes with currentUser.flag' },
    ]);
    // Start-up says so, naming each one.
    const { log, lines } = capturedLog('warn');
    await prepareRowSecurity({ orm: t.orm, log, model });
    expect(lines.map((line) => line.globalFilter)).toEqual(['region', 'discontinued']);
    expect(lines[0]!.msg).toBe(
      'global filter "region" is enforced by the gateway only: the database cannot express it',
    );
  });

  it('replace the whole previous set when applied again, with row security on each table a rule restricts', () => {
    const statements = policyStatements(t.model.databasePolicies);
    expect(statements[0]).toMatch(/drop policy/);
    expect(
      statements.filter((s) => s.endsWith('enable row level security, force row level security;')),
    ).toHaveLength(8);
  });
});

describe('npm run security:check', () => {
  const check = (...args: string[]) =>
    runProjectCli('src/db/cli/security-check.ts', args, { databaseUrl: t.db.url });

  it('finds no drift on a migrated database', async () => {
    const result = await check();
    expect(result.stdout).toMatch(/policies match the declarations \(10 policies on 8 tables\)/);
    expect(result.stdout).toContain(
      'Row-level security, forced, on 8 table(s) whose rows the declarations restrict: category, customer, department, employee, order, order_detail, product, supplier.',
    );
    expect(result.stdout).toContain(
      'No row-level security on 1 table(s) no rule restricts, which every client reads as before: shipper.',
    );
    expect(result.code).toBe(0);
  });

  it('lists missing, extra and different policies and unforced tables, with exit code 1; --apply restores them', async () => {
    await t.db.sql.query(`
      drop policy "grantgate_region" on supplier;
      create policy "grantgate_extra" on shipper using (true);
      alter table product no force row level security;
      drop policy "grantgate_clientId" on category;
      create policy "grantgate_clientId" on category as restrictive using (client_id = 1);`);
    const result = await check();
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/4 difference\(s\)/);
    expect(result.stdout).toMatch(/missing: supplier grantgate_region/);
    expect(result.stdout).toMatch(/extra: shipper grantgate_extra/);
    expect(result.stdout).toMatch(/different: category grantgate_clientId — is \(client_id = 1\)/);
    expect(result.stdout).toMatch(/not enforced: product — row level security is not forced/);

    expect((await check('--apply')).code).toBe(0);
    expect((await check()).code).toBe(0);
  });
});
