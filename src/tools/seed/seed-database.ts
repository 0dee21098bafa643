import { type MikroORM } from '@mikro-orm/postgresql';
import { type DemoData } from '../../domain.js';
import { type Logger } from '../../logger.js';
import { asMaintenance } from '../../db/maintenance.js';

export type SeedMode = 'demo' | 'users' | 'none';

/**
 * Applies SEED on start: `demo` writes the domain's demo data set into its empty tables; `users`
 * and `none` write no domain rows. A domain without demo data (an imported one: its rows are the
 * team's) is never seeded.
 */
export async function seedOnStart(
  orm: MikroORM,
  mode: SeedMode,
  log: Logger,
  demoData: DemoData | undefined,
): Promise<void> {
  if (mode !== 'demo' || !demoData) return;
  if (!(await asMaintenance(orm, (em) => demoData.isEmpty(em)))) {
    log.debug('the database already holds data; not seeding');
    return;
  }
  const started = Date.now();
  await asMaintenance(orm, (em) => demoData.write(em, 1));
  log.info({ ms: Date.now() - started }, 'seeded the demo data');
}
