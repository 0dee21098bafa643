import { type Domain } from '../../src/index.js';
import policy from './declare-security.js';
import { demoUsers } from './demo-users.js';
import { Customer, entities, Product } from './entities/index.js';
import { migrations } from './migrations/index.js';
import { NorthwindSeeder } from './seed/northwind.seeder.js';

/** The Northwind demo: its tables come from its own migration, its rows from its seeder, its users from demo-users.ts. */
export const northwind: Domain = {
  folder: 'demo/northwind',
  entities,
  policy,
  migrations,
  demoData: {
    isEmpty: async (em) => (await em.count(Customer, {})) === 0 && (await em.count(Product, {})) === 0,
    write: (em, scale) => new NorthwindSeeder().run(em, { scale }),
  },
  demoUsers,
  exampleQuery: '{ me { id roles attributes } customersCount customers(limit: 3) { id companyName } }',
};

export default northwind;
