import { describe, expect, it } from 'vitest';
import { type CompiledPolicy } from '../../security/system/compiled-policy.js';
import { compilePolicy } from '../../security/system/policy-compiler.js';
import { compileSecurityModel, SecurityModel } from '../../security/system/security-model.js';
import { compileSql } from '../../security/system/sql-fragment.js';
import { DEMO_USERS } from '../../demo/northwind/demo-users.js';
import { discoverMetadata } from '../../security/database/security-migrations.js';
import northwind from '../../demo/northwind/index.js';

/**
 * The declarations compiled as data (security/system/compiled-policy.ts), per entity and role: one
 * small golden file a reviewer reads when the declarations change (run vitest with -u to rewrite it,
 * then read its diff).
 */
describe('the compiled policy', () => {
  const policy = compilePolicy(northwind.policy, discoverMetadata(northwind));

  it('of the demo is the reviewed golden file', async () => {
    // JSON with each small object and each list of words on one line, so that a change reads as one.
    const text = JSON.stringify(policy, null, 2)
      .replace(
        /\[\s+("[^"\n]*"(?:,\s+"[^"\n]*")*)\s+\]/g,
        (_, items: string) => `[${items.replace(/,\s+/g, ', ')}]`,
      )
      .replace(/\{\s+("[a-z]+": [^{}[\]\n]+)\s+\}/g, (_, entry: string) => `{ ${entry} }`);
    await expect(`${text}\n`).toMatchFileSnapshot('./golden/northwind-policy.json');
  });

  it('is plain data: it survives JSON unchanged', () => {
    expect(JSON.parse(JSON.stringify(policy))).toEqual(policy);
  });

  it('says what each role may do, as the declarations do', () => {
    // A tenant reads and writes its customers, stamped with its clientId, under the tenant filter.
    expect(policy.entities.Customer!.roles.tenant).toEqual({
      verbs: ['read', 'insert', 'update', 'delete'],
      filters: [
        'Everyone but the superuser sees only the rows of their own tenant; every entity must be covered.',
      ],
      stamps: ['clientId'],
    });
    expect(policy.rules[policy.entities.Customer!.roles.tenant!.filters![0]!]).toEqual({
      property: 'clientId',
      operator: 'eq',
      operand: { attribute: 'clientId' },
    });
    // A grant restricts the rows of its role: a customer sees itself.
    expect(policy.rules[policy.entities.Customer!.roles.customer!.grants![0]!]).toEqual({
      property: 'id',
      operator: 'eq',
      operand: { attribute: 'id' },
    });
    // Shared rows: read only, but for the role a grant names.
    expect(policy.entities.Shipper!.roles.tenant!.verbs).toEqual(['read']);
    expect(policy.entities.Employee!.roles.manager!.verbs).toEqual(['read', 'insert', 'update']);
    // A field a role may not read.
    expect(policy.entities.Employee!.roles.tenant!.hiddenColumns).toEqual(['salary']);
    // Sales people read the staff list, but may not aggregate it; managers may.
    expect(policy.entities.Employee!.noAggregates).toEqual({
      label: 'Sales people may read the staff list but not compute statistics over it.',
      roles: ['sales'],
    });
    expect(policy.entities.Employee!.roles.sales!.noAggregates).toBe(
      policy.entities.Employee!.noAggregates!.label,
    );
    expect(policy.entities.Employee!.roles.manager!.noAggregates).toBeUndefined();
    // A role without any verb on an entity is not listed.
    expect(policy.entities.Customer!.roles.dev).toBeUndefined();
    expect(policy.entities.Order!.scope).toEqual({
      label: "An order belongs to its customer's tenant.",
      through: 'customer',
      parent: 'Customer',
      foreignKey: 'customer_id',
      parentKey: 'id',
    });
  });
});

/**
 * The gateway's security model decides from the compiled data alone: one built from the policy's
 * JSON decides as one compiled from the declarations, and a change to the data is a change of
 * decision, in the gateway and in the database's policies alike.
 */
describe('the security model reads the compiled policy', () => {
  const metadata = discoverMetadata(northwind);
  const compiled = compilePolicy(northwind.policy, metadata);
  const fromJson = (edit: (data: CompiledPolicy) => void = () => {}) => {
    const data = JSON.parse(JSON.stringify(compiled)) as CompiledPolicy;
    edit(data);
    return new SecurityModel(data, metadata);
  };
  const declared = compileSecurityModel(northwind.policy, metadata);
  const entities = declared.securedEntities();

  it('built from the JSON, decides as compiled from the declarations, for every demo user', () => {
    const model = fromJson();
    const decisions = (m: SecurityModel) =>
      DEMO_USERS.flatMap((user) =>
        entities.map((meta) => ({
          user: user.id,
          entity: meta.className,
          verbs: m.verbs(user, meta.className),
          aggregates: m.mayAggregate(user, meta.className),
          rules: m.rulesFor(user, meta.className),
          rows: (() => {
            const rows = m.rowSql(user, meta.className, 'r');
            return rows && compileSql(rows);
          })(),
          fields: meta.props
            .filter((prop) => !m.mayUseField(user, meta.className, prop.name))
            .map((p) => p.name),
          stamps: m.constrainedAttributes(user, meta.className),
        })),
      );
    const expected = decisions(declared);
    expect(decisions(model)).toEqual(expected);
    // The comparison compares something: some users lack verbs, fields and rows.
    expect(expected.filter((d) => !d.verbs.delete).length).toBeGreaterThan(0);
    expect(expected.filter((d) => d.fields.length > 0).length).toBeGreaterThan(0);
    expect(expected.filter((d) => d.verbs.read && !d.aggregates).length).toBeGreaterThan(0);
    expect(model.databasePolicies).toEqual(declared.databasePolicies);
  });

  const u1 = DEMO_USERS.find((user) => user.id === 'u1')!;

  it('takes a verb away where the data does', () => {
    expect(declared.allows(u1, 'Customer', 'delete')).toBe(true);
    const model = fromJson((data) => {
      for (const permission of data.permissions.filter((p) => p.roles.includes('tenant')))
        permission.verbs = permission.verbs.filter((verb) => verb !== 'delete');
    });
    expect(model.allows(u1, 'Customer', 'delete')).toBe(false);
    expect(model.rolesWith('Customer', 'delete')).not.toContain('tenant');
    const mayDelete = (m: SecurityModel) =>
      m.databasePolicies.policies.find((p) => p.table === 'customer' && p.name === 'grantgate_may_delete')!
        .expression;
    expect(mayDelete(model)).not.toEqual(mayDelete(declared));
  });

  it('lets a role aggregate where the data no longer withholds it', () => {
    const s1 = DEMO_USERS.find((user) => user.id === 's1')!;
    expect(declared.mayAggregate(s1, 'Employee')).toBe(false);
    const model = fromJson((data) => delete data.entities.Employee!.noAggregates);
    expect(model.mayAggregate(s1, 'Employee')).toBe(true);
  });

  it('lifts a filter from a role the data exempts', () => {
    const tenantFilter = Object.keys(compiled.filters).find((label) => compiled.filters[label]!.tenant)!;
    const labels = (m: SecurityModel) => m.predicateParts(u1, 'Customer', 'r').map((part) => part.label);
    expect(labels(declared)).toContain(tenantFilter);
    const model = fromJson((data) => data.filters[tenantFilter]!.exempt.push('tenant'));
    expect(labels(model)).not.toContain(tenantFilter);
    expect(model.constrainedAttributes(u1, 'Customer')).not.toContain('clientId');
  });
});
