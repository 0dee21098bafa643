import { type MikroORM } from '@mikro-orm/postgresql';
import type pg from 'pg';

/** The ORM pool's connections now: checked out, idle, and requests waiting for one (the metrics). */
export async function poolState(orm: MikroORM): Promise<{ inUse: number; idle: number; waiting: number }> {
  const pool = (await orm.em.getConnection().getNativeClient()) as unknown as pg.Pool;
  return { inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount };
}
