import { assembleGateway, type AssembledGateway } from '../../assemble.js';
import { type Config } from '../../config.js';
import { DATA_DIR } from '../../db/database.js';
import { type Domain } from '../../domain.js';
import { type Logger } from '../../logger.js';

/**
 * The gateway a security CLI asks (security:explain, security:diff): the domain on `databaseUrl`, two
 * connections, and the configured auth provider to find users by id. It never listens; stop it after.
 */
export function assembleCliGateway(
  config: Config,
  domain: Domain,
  databaseUrl: string,
  log: Logger,
): Promise<AssembledGateway> {
  return assembleGateway({
    domain,
    databaseUrl,
    migrationDatabaseUrl: config.migrationDatabaseUrl,
    log,
    pool: { size: 2 },
    auth: { config, dataDir: DATA_DIR },
  });
}
