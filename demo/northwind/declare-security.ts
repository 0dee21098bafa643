import {
  Customer,
  Department,
  Employee,
  Order,
  OrderDetail,
  Product,
  Shipper,
  Supplier,
} from './entities/index.js';
import { declareSecurity } from '../../src/index.js';

export default declareSecurity(
  ({
    rolePermission,
    grant,
    globalFilter,
    tenantFilter,
    scope,
    sharedByAllTenants,
    restrictFields,
    noAggregates,
  }) => {
    // Tenants may read, insert, update and delete.
    rolePermission('tenant');

    // Renters, managers, sales people and the public may read, insert and update, but not delete.
    rolePermission(['renter', 'manager', 'sales', 'public'], { delete: false });

    // Everyone but the superuser sees only the rows of their own tenant; every entity must be covered.
    tenantFilter('clientId', (currentUser) => ({ clientId: currentUser.clientId }), {
      rolesNotFiltered: ['sa'],
    });

    // An order belongs to its customer's tenant.
    scope(Order, 'customer');

    // An order line belongs to its order's tenant.
    scope(OrderDetail, 'order');

    // A product belongs to its category's tenant.
    scope(Product, 'category');

    // Departments, employees, suppliers and shippers are the company's own: read by every tenant,
    // written by no tenant (the superuser and a grant's role alone write shared rows).
    sharedByAllTenants(Department, Employee, Supplier, Shipper);

    // Managers run the departments and their staff.
    grant(Department, 'manager', { verbs: { delete: false } });

    // Managers hire and pay employees.
    grant(Employee, 'manager', { verbs: { delete: false } });

    // Salaries are read and written by managers only.
    restrictFields(Employee, ['salary'], 'manager');

    // Sales people may read the staff list but not compute statistics over it.
    noAggregates(Employee, ['sales']);

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
  },
);
