import { type PlannedEntity } from './entity-plan.js';

/** Column names that usually hold the tenant of a row, as entity properties. */
const TENANT_PROPERTIES = ['clientId', 'tenantId', 'organizationId', 'accountId'];

/**
 * A starting security/declare-security.ts: readers may read, nobody writes until granted, and when
 * a tenant column was found, every entity is either filtered by it or listed as shared, so the
 * coverage check passes and the administrator sees each entity to decide on.
 */
export function securitySource(
  entities: PlannedEntity[],
  paths: { policy: string; entities: string },
): string {
  const names = entities.map((e) => e.className).sort();
  const tenant = TENANT_PROPERTIES.find((property) =>
    entities.some((e) => e.members.some((m) => m.name === property)),
  );
  const withTenant = tenant
    ? names.filter((name) =>
        entities.find((e) => e.className === name)!.members.some((m) => m.name === tenant),
      )
    : [];
  const shared = names.filter((name) => !withTenant.includes(name));
  const rules = [
    '    // Written by `npm run db:import`: a start to edit, not a policy. Users with the role `reader`',
    '    // may read every entity; no one else may do anything but the superuser (`sa`), until granted.',
    "    rolePermission('reader', { insert: false, update: false, delete: false });",
  ];
  if (tenant) {
    rules.push(
      `    // Everyone but the superuser sees only the rows of their own tenant (column ${tenant}: ${withTenant.join(', ')}).`,
      `    tenantFilter('${tenant}', (currentUser) => ({ ${tenant}: currentUser.${tenant} }), { rolesNotFiltered: ['sa'] });`,
    );
    if (shared.length > 0) {
      rules.push(
        `    // These have no ${tenant} column: shared by all tenants until you scope them to a parent,`,
        "    // scope(Entity, '<to-one relation>'), or give them the column.",
        `    sharedByAllTenants(${shared.join(', ')});`,
      );
    }
  } else {
    rules.push(`    // No tenant column was found. The imported entities: ${names.join(', ')}.`);
  }
  const api = tenant ? '{ rolePermission, tenantFilter, sharedByAllTenants }' : '{ rolePermission }';
  const imported = tenant && shared.length > 0 ? shared : [];
  return [
    ...(imported.length > 0 ? [`import { ${imported.join(', ')} } from '${paths.entities}';`] : []),
    `import { declareSecurity } from '${paths.policy}';`,
    '',
    `export default declareSecurity((${api}) => {`,
    ...rules,
    '});',
    '',
  ].join('\n');
}
