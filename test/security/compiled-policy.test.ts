import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../security/system/compiled-policy.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import { discoverMetadata } from '../../security/database/security-migrations.js';
import northwind from '../../demo/northwind/index.js';

/**
 * The declarations compiled as data (security/system/compiled-policy.ts), per entity and role: one
 * small golden file a reviewer reads when the declarations change (run vitest with -u to rewrite it,
 * then read its diff).
 */
describe('the compiled policy', () => {
  const policy = compilePolicy(compileSecurityModel(northwind.policy, discoverMetadata(northwind)));

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
    // A role without any verb on an entity is not listed.
    expect(policy.entities.Customer!.roles.dev).toBeUndefined();
    expect(policy.entities.Order!.scope).toEqual({
      label: "An order belongs to its customer's tenant.",
      through: 'customer',
      parent: 'Customer',
    });
  });
});
