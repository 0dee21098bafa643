import { Customer } from '../src/entities/index.js';
import { declareSecurity } from './system/policy.js';

export default declareSecurity(({ rolePermission, grant, globalFilter }) => {
  // Tenants may read, insert, update and delete.
  rolePermission('tenant');

  // Renters, managers, sales people and the public may read, insert and update, but not delete.
  rolePermission(['renter', 'manager', 'sales', 'public'], { delete: false });

  // Everyone but the superuser sees only the rows of their own tenant.
  globalFilter('clientId', (currentUser) => ({ clientId: currentUser.clientId }), {
    rolesNotFiltered: ['sa'],
  });

  // Only managers (and the superuser) see restricted departments.
  globalFilter('securityLevel', () => ({ securityLevel: 0 }), { rolesNotFiltered: ['sa', 'manager'] });

  // Sales people and customers see only their own region.
  globalFilter('region', (currentUser) => ({ region: currentUser.region }), {
    rolesNotFiltered: ['sa', 'manager', 'tenant', 'renter', 'public'],
  });

  // Discontinued products are hidden from all but managers (and the superuser).
  globalFilter('discontinued', () => ({ discontinued: false }), { rolesNotFiltered: ['sa', 'manager'] });

  // A customer sees its own customer record only.
  grant(Customer, 'customer', { filter: (currentUser) => ({ id: currentUser.id }) });

  // Sales people see customers with a credit limit over 300 ...
  grant(Customer, 'sales', { filter: () => ({ creditLimit: { $gt: 300 } }) });

  // ... and customers whose contact is Mike.
  grant(Customer, 'sales', { filter: () => ({ contactName: 'Mike' }) });

  // The public sees every customer but ANATR.
  grant(Customer, 'public', { filter: () => ({ id: { $ne: 'ANATR' } }) });
});
