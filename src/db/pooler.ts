import pg from 'pg';
import { type Logger } from '../logger.js';

/**
 * What stands between the gateway and PostgreSQL (SPEC §12). `transaction`: a pooler in transaction
 * mode (PgBouncer, RDS Proxy, Supabase's pooler), which hands each transaction whichever server
 * connection is free, so that nothing may outlive a transaction on a connection: no named prepared
 * statements, no settings of the connection (src/db/preparing-client.ts). `none`: PostgreSQL itself.
 */
export type Pooler = 'none' | 'transaction';

/** PgBouncer's refusal of a startup parameter its configuration does not pass on. */
const REFUSED_STARTUP_PARAMETER = /unsupported startup parameter/;

/**
 * DATABASE_POOLER when set; otherwise what a first connection tells: PostgreSQL accepts the
 * statement_timeout the pool's connections start with, and PgBouncer (in its stock configuration)
 * refuses it, which only a pooler does. Any other failure is left to the pool, which reports it.
 */
export async function detectPooler(
  databaseUrl: string,
  configured: Pooler | undefined,
  options: { connectionTimeoutMs: number; log: Logger },
): Promise<Pooler> {
  if (configured) return configured;
  const probe = new pg.Client({
    connectionString: databaseUrl,
    statement_timeout: 1000,
    connectionTimeoutMillis: options.connectionTimeoutMs,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return 'none';
  } catch (error) {
    if (!REFUSED_STARTUP_PARAMETER.test((error as Error).message)) return 'none';
    options.log.info(
      'DATABASE_URL is a connection pooler (it refused a startup parameter): running as with DATABASE_POOLER=transaction',
    );
    return 'transaction';
  } finally {
    await probe.end().catch(() => {});
  }
}
