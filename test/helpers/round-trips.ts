import type pg from 'pg';

/** How many exchanges with the server (each ends with ReadyForQuery) `work` took on `client`. */
export async function roundTrips(client: pg.Client, work: () => Promise<unknown>): Promise<number> {
  const wire = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  let count = 0;
  const counted = () => count++;
  wire.on('readyForQuery', counted);
  try {
    await work();
  } finally {
    wire.off('readyForQuery', counted);
  }
  return count;
}
