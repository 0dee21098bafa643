// The committed migrations, oldest first. `npm run db:migration:create` and
// `npm run security:migration` append new ones here.
import { Migration20261123034734_northwind } from './Migration20261123034734_northwind.js';
import { Migration20261123082155_row_security } from './Migration20261123082155_row_security.js';
import { Migration20261201073518_row_security } from './Migration20261201073518_row_security.js';
import { Migration20261206161735_row_security } from './Migration20261206161735_row_security.js';
import { Migration20261206202801_row_security } from './Migration20261206202801_row_security.js';
import { Migration20261206212444_row_security } from './Migration20261206212444_row_security.js';
import { Migration20261207093747_sort_indexes } from './Migration20261207093747_sort_indexes.js';

export const migrations = [
  { name: 'Migration20261123034734_northwind', class: Migration20261123034734_northwind },
  { name: 'Migration20261123082155_row_security', class: Migration20261123082155_row_security },
  { name: 'Migration20261201073518_row_security', class: Migration20261201073518_row_security },
  { name: 'Migration20261206161735_row_security', class: Migration20261206161735_row_security },
  { name: 'Migration20261206202801_row_security', class: Migration20261206202801_row_security },
  { name: 'Migration20261206212444_row_security', class: Migration20261206212444_row_security },
  { name: 'Migration20261207093747_sort_indexes', class: Migration20261207093747_sort_indexes },
];
