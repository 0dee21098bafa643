import { join } from 'node:path';
import { type Config } from '../config.js';
import { type Logger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded/embedded-postgres.js';

export const DATA_DIR = join(process.cwd(), '.data');
const EMBEDDED_DATABASE_NAME = 'grantgate';

export interface Database {
  url: string;
  embedded: boolean;
  /** Stops the embedded server, if this process started one. */
  close(): Promise<void>;
}

/**
 * DATABASE_URL when given, otherwise the embedded PostgreSQL under `.data/`: started here, after
 * stopping a server left behind by a process that died; or, when another live process runs it, that
 * server (`share`, the default: a database command beside the running gateway) or a one-line refusal
 * naming the holder (the gateway: two gateways would stop the server under each other).
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl'>,
  log: Logger,
  options: { holder?: string; share?: boolean } = {},
): Promise<Database> {
  if (config.databaseUrl) {
    return { url: config.databaseUrl, embedded: false, close: async () => {} };
  }
  const server = await startEmbeddedPostgres({
    dataDir: DATA_DIR,
    log,
    persistent: true,
    holder: options.holder,
    share: options.share ?? true,
  });
  const url = new URL(server.serverUrl);
  url.pathname = `/${EMBEDDED_DATABASE_NAME}`;
  return { url: url.toString(), embedded: true, close: () => server.stop() };
}
