import { type MikroORM } from '@mikro-orm/postgresql';
import { Customer, Product } from '../../entities/index.js';
import { type Logger } from '../../logger.js';
import { asMaintenance } from '../maintenance.js';
import { NorthwindSeeder } from './northwind.seeder.js';

export type SeedMode = 'demo' | 'users' | 'none';

/** True when no domain table has rows yet: seeding never writes over data. */
export async function isDomainEmpty(orm: MikroORM): Promise<boolean> {
  return asMaintenance(
    orm,
    async (em) => (await em.count(Customer, {})) === 0 && (await em.count(Product, {})) === 0,
  );
}

/**
 * Applies SEED on start: `demo` writes the demo data set into an empty database, `users` will seed
 * only the demo users once authentication exists, `none` writes nothing.
 */
export async function seedOnStart(orm: MikroORM, mode: SeedMode, log: Logger): Promise<void> {
  if (mode !== 'demo') return;
  if (!(await isDomainEmpty(orm))) {
    log.debug('the database already holds data; not seeding');
    return;
  }
  const started = Date.now();
  await asMaintenance(orm, (em) => new NorthwindSeeder().run(em, { scale: 1 }));
  log.info({ ms: Date.now() - started }, 'seeded the demo data');
}
