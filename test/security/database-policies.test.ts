import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareSecurity } from '../../security/system/policy.js';
import { policyStatements } from '../../security/system/database-policies.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import northwind from '../fixtures/northwind/index.js';
import { declaredPolicyStatements, latestSecurityMigration } from '../../src/db/security-migrations.js';
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
    expect(plan.policies.map((p) => `${p.table}.${p.name}`)).toEqual([
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
    expect(region.expression).toContain("array['sa', 'manager', 'tenant', 'renter', 'public']");
    expect(region.expression).toContain(
      `"region" = (select nullif(current_setting('grantgate.user.region', true), '')`,
    );
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
    ).toHaveLength(8);
  });
});

describe('npm run security:check', () => {
  const check = (...args: string[]) =>
    runProjectCli('src/db/cli/security-check.ts', args, { databaseUrl: t.db.url });

  it('finds no drift on a migrated database', async () => {
    const result = await check();
    expect(result.stdout).toMatch(/policies match the declarations \(11 policies on 8 tables\)/);
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
