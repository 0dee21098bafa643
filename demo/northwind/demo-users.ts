import { type AuthUser, type DemoUsers } from '../../src/index.js';

/** The demo's users of SPEC §5, all with the password DEMO_PASSWORD (`p`); created only outside production. */
export const DEMO_USERS: AuthUser[] = [
  { id: 'admin', name: 'Administrator', roles: ['sa'], attributes: {} },
  { id: 'sa', name: 'Superuser', roles: ['sa'], attributes: {} },
  {
    id: 'aneu',
    name: 'Anna Neumann',
    roles: ['tenant'],
    attributes: { clientId: 1, region: 'British Isles' },
  },
  { id: 'u1', name: 'User One', roles: ['tenant'], attributes: { clientId: 1, region: 'North America' } },
  {
    id: 'u2',
    name: 'User Two',
    roles: ['manager', 'tenant'],
    attributes: { clientId: 2, region: 'British Isles' },
  },
  {
    id: 'sam',
    name: 'Sam Developer',
    roles: ['dev', 'manager'],
    attributes: { clientId: 2, region: 'North America' },
  },
  { id: 's1', name: 'Sales One', roles: ['sales'], attributes: { clientId: 2, region: 'British Isles' } },
  { id: 'r1', name: 'Renter One', roles: ['renter'], attributes: { clientId: 1, region: 'Central America' } },
  { id: 'ALFKI', name: 'Alpenfeld Kitchens', roles: ['tenant', 'customer'], attributes: { clientId: 1 } },
  {
    id: 'ANATR',
    name: 'Ana Trujillo Provisions',
    roles: ['tenant', 'customer'],
    attributes: { clientId: 2 },
  },
  { id: 'p1', name: 'Public One', roles: [], attributes: { clientId: 2 } },
];

export const demoUsers: DemoUsers = { users: DEMO_USERS, loginAs: 's1' };
