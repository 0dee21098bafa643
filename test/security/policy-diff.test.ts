import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../security/system/policy-compiler.js';
import { declareSecurity } from '../../security/system/policy.js';
import { policyDiff, policyDiffText } from '../../security/system/policy-diff.js';
import { discoverMetadata } from '../../security/database/security-migrations.js';
import {
  Customer,
  Department,
  Employee,
  Order,
  OrderDetail,
  Product,
  Shipper,
  Supplier,
} from '../../demo/northwind/entities/index.js';
import northwind from '../../demo/northwind/index.js';
import { DEMO_USERS } from '../../demo/northwind/demo-users.js';
import { runProjectCli } from '../helpers/project-cli.js';
import { createTestDatabase } from '../helpers/test-database.js';

/**
 * `npm run security:diff`: what a change of the declarations does, per entity and role, read from the
 * two compiled policies (security/system/policy-diff.ts), and the CLI that compares a revision's.
 */
const metadata = discoverMetadata(northwind);

/** Declarations of the test's own over the fixture's entities, with the four things a change may touch. */
function declarations(options: {
  publicGrant: boolean;
  creditLimit: number;
  productScoped: boolean;
  salesAggregateStaff: boolean;
}) {
  return compilePolicy(
    declareSecurity(({ rolePermission, grant, tenantFilter, scope, sharedByAllTenants, noAggregates }) => {
      // Tenants do everything to their rows.
      rolePermission('tenant');
      // Sales people and the public read and write, not delete.
      rolePermission(['sales', 'public'], { delete: false });
      // Each tenant sees its own rows.
      tenantFilter('clientId', (currentUser) => ({ clientId: currentUser.clientId }), {
        rolesNotFiltered: ['sa'],
      });
      // An order is its customer's tenant's.
      scope(Order, 'customer');
      // A line is its order's tenant's.
      scope(OrderDetail, 'order');
      if (options.productScoped) {
        // A product is its category's tenant's.
        scope(Product, 'category');
        // The company's own.
        sharedByAllTenants(Department, Employee, Supplier, Shipper);
      } else {
        // The company's own.
        sharedByAllTenants(Department, Employee, Supplier, Shipper, Product);
      }
      // Sales people see customers of a high credit limit.
      grant(Customer, 'sales', {
        // A filter is data: a literal, never a variable (captured-filter.ts).
        filter:
          options.creditLimit === 300
            ? () => ({ creditLimit: { $gt: 300 } })
            : () => ({ creditLimit: { $gt: 500 } }),
      });
      if (options.publicGrant)
        // The public sees every customer but ANATR.
        grant(Customer, 'public', { filter: () => ({ id: { $ne: 'ANATR' } }) });
      if (!options.salesAggregateStaff)
        // Sales people count no staff.
        noAggregates(Employee, 'sales');
    }),
    metadata,
  );
}

const base = { publicGrant: true, creditLimit: 300, productScoped: false, salesAggregateStaff: true };

describe('security:diff, from two compiled policies', () => {
  it('finds nothing between equal declarations', () => {
    expect(policyDiff(declarations(base), declarations(base))).toEqual([]);
    expect(policyDiffText([])).toBe('No change to what any role may do or see.');
  });

  it('a removed grant: the role loses its rows restriction and the verbs only the grant gave', () => {
    const changes = policyDiff(declarations(base), declarations({ ...base, publicGrant: false }));
    expect(changes).toEqual([
      { entity: 'Customer', role: 'public', what: 'verbs', removed: ['delete'], added: [] },
      {
        entity: 'Customer',
        role: 'public',
        what: 'grants',
        removed: ['The public sees every customer but ANATR.'],
        added: [],
      },
    ]);
    expect(policyDiffText(changes)).toBe(
      [
        'Customer, role public — verbs:',
        '  - delete',
        'Customer, role public — grants:',
        '  - The public sees every customer but ANATR.',
      ].join('\n'),
    );
  });

  it('a changed filter: the rule under its label, as conditions a person reads', () => {
    const changes = policyDiff(declarations(base), declarations({ ...base, creditLimit: 500 }));
    expect(changes).toEqual([
      {
        what: 'rule',
        removed: ['Sales people see customers of a high credit limit.: creditLimit > 300'],
        added: ['Sales people see customers of a high credit limit.: creditLimit > 500'],
      },
    ]);
    expect(policyDiffText(changes)).toContain(
      '  + Sales people see customers of a high credit limit.: creditLimit > 500',
    );
  });

  it('aggregates withheld: the roles that read the entity and may no longer aggregate it', () => {
    const changes = policyDiff(declarations(base), declarations({ ...base, salesAggregateStaff: false }));
    expect(changes).toEqual([
      {
        entity: 'Employee',
        role: 'sales',
        what: 'aggregates withheld by',
        removed: [],
        added: ['Sales people count no staff.'],
      },
    ]);
    expect(policyDiffText(changes)).toBe(
      ['Employee, role sales — aggregates withheld by:', '  + Sales people count no staff.'].join('\n'),
    );
  });

  it('an added scope: the entity’s coverage and scope, and the roles that now write it', () => {
    const changes = policyDiff(declarations(base), declarations({ ...base, productScoped: true }));
    expect(changes).toContainEqual({
      entity: 'Product',
      what: 'coverage',
      removed: ['shared'],
      added: ['scope'],
    });
    expect(changes).toContainEqual({
      entity: 'Product',
      what: 'scope',
      removed: [],
      added: ["through category (Category): A product is its category's tenant's."],
    });
    // Shared, the tenants only read products; scoped, they write their own.
    expect(changes).toContainEqual({
      entity: 'Product',
      role: 'tenant',
      what: 'verbs',
      removed: [],
      added: ['insert', 'update', 'delete'],
    });
    // The same as JSON: plain data.
    expect(JSON.parse(JSON.stringify(changes))).toEqual(changes);
  });
});

describe('npm run security:diff', () => {
  const diff = (...args: string[]) =>
    runProjectCli('src/explain/cli/security-diff.ts', args, {
      databaseUrl: '',
      env: { DOMAIN: 'demo/northwind' },
    });

  it('finds no change between HEAD and a working tree that leaves the declarations as they are', async () => {
    const result = await diff();
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe('No change to what any role may do or see.\n');
    const json = await diff('HEAD', '--json');
    expect(JSON.parse(json.stdout)).toEqual({ from: 'HEAD', to: 'working tree', changes: [] });
  });

  it('with --rows, counts each demo user’s rows under both revisions on the database', async () => {
    const db = await createTestDatabase();
    try {
      const withDatabase = (...args: string[]) =>
        runProjectCli('src/explain/cli/security-diff.ts', args, {
          databaseUrl: db.url,
          env: { DOMAIN: 'demo/northwind' },
        });
      const text = await withDatabase('HEAD', '--rows');
      expect(text).toMatchObject({ code: 0, stderr: '' });
      expect(text.stdout).toBe(
        `No change to what any role may do or see.\nNo change to the rows ${DEMO_USERS.map((user) => user.id).join(', ')} read.\n`,
      );
      const json = await withDatabase('HEAD', '--rows', '--json');
      expect(JSON.parse(json.stdout)).toEqual({ from: 'HEAD', to: 'working tree', changes: [], rows: [] });
      const unknown = await withDatabase('HEAD', '--user', 'nobody-at-all');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(
        /^security:diff: nobody-at-all: the auth provider \(sql\) does not know this user\n$/,
      );
    } finally {
      await db.drop();
    }
    // Three runs of the CLI, each a process that loads the domain and opens the database.
  }, 90_000);

  it('refuses a revision that does not exist, in one line', async () => {
    const result = await diff('no-such-revision');
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe('security:diff: no-such-revision is not a revision of this repository\n');
  });
});
