import { type PlannedEntity } from './entity-plan.js';

/** Column names that usually hold the tenant of a row, as entity properties. */
const TENANT_PROPERTIES = ['clientId', 'tenantId', 'organizationId', 'accountId'];

/**
 * A starting declare-security.ts for an imported domain: readers may read, nobody writes until granted, and when
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
  // An entity without the column whose required to-one relation leads to a covered one (a line of
  // an order, a staff member's skills) belongs to that parent's tenant: scoped through it.
  const scoped = new Map<string, string>();
  for (let changed = Boolean(tenant); changed;) {
    changed = false;
    for (const entity of entities) {
      if (withTenant.includes(entity.className) || scoped.has(entity.className)) continue;
      const parent = entity.members.find(
        (m) =>
          m.uses === 'ToOne' &&
          !m.optional &&
          m.target !== entity.className &&
          (withTenant.includes(m.target!) || scoped.has(m.target!)),
      );
      if (parent) {
        scoped.set(entity.className, parent.name);
        changed = true;
      }
    }
  }
  const isView = (name: string) => entities.some((e) => e.className === name && e.view);
  const unfiltered = names.filter((name) => !withTenant.includes(name) && !scoped.has(name));
  const shared = unfiltered.filter((name) => !isView(name));
  // A view shows its tables' rows under rules of its own, not theirs: said apart, to be decided on.
  const sharedViews = unfiltered.filter(isView);
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
    for (const name of names.filter((each) => scoped.has(each))) {
      rules.push(
        `    // ${name} belongs to the tenant of its ${scoped.get(name)}: visible where that row is.`,
        `    scope(${name}, '${scoped.get(name)}');`,
      );
    }
    if (shared.length > 0) {
      rules.push(
        `    // These have no ${tenant} column: shared by all tenants (read by all, written by sa and the`,
        "    // roles a grant names) until you scope them to a parent, scope(Entity, '<to-one relation>'),",
        '    // or give them the column.',
        `    sharedByAllTenants(${shared.join(', ')});`,
      );
    }
    if (sharedViews.length > 0) {
      rules.push(
        `    // Views without a ${tenant} column. A view shows rows of its tables under these rules, not under`,
        "    // the tables' own: until you decide, only the superuser reads them. Share one whose rows are",
        "    // everyone's (then restrict it with grants, if need be), or drop it from entities.ts.",
        `    // sharedByAllTenants(${sharedViews.join(', ')});`,
      );
    }
  } else {
    rules.push(`    // No tenant column was found. The imported entities: ${names.join(', ')}.`);
  }
  const api = tenant
    ? `{ rolePermission, tenantFilter${scoped.size > 0 ? ', scope' : ''}${shared.length > 0 ? ', sharedByAllTenants' : ''} }`
    : '{ rolePermission }';
  const imported = tenant ? [...scoped.keys(), ...shared].sort() : [];
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
