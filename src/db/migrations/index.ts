// The committed migrations, oldest first. `npm run db:migration:create` appends new ones here.
import { Migration20261123034734_northwind } from './Migration20261123034734_northwind.js';

export const migrations = [
  { name: 'Migration20261123034734_northwind', class: Migration20261123034734_northwind },
];
