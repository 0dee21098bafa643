import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { type EntityClass, type EntityMetadata, type MigrationObject, type Platform } from '@mikro-orm/core';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { securityFilter } from '../../security/system/row-security.js';
import { type Domain, migrationsFolderOf } from '../domain.js';
import { MappedTablesMigrator, MIGRATIONS_TABLE } from './mapped-tables-migrator.js';
import { DEFAULT_PREPARED_MEMORY, type PreparedMemory, PreparingClient } from './preparing-client.js';
import { type Pooler } from './pooler.js';
import { type QueryLog } from './query-log.js';
import { isWritableView } from '../model/views.js';

export interface PoolSettings {
  size: number;
  /** A request waits at most this long for a free connection, then fails instead of hanging. */
  acquireTimeoutMs: number;
  /** PostgreSQL cancels statements that run longer. */
  statementTimeoutMs: number;
  /** What the connections' prepared statements may cost PostgreSQL (src/db/preparing-client.ts). */
  preparedMemory: PreparedMemory;
  /** What stands between the pool and PostgreSQL (src/db/pooler.ts). */
  pooler: Pooler;
}

export const DEFAULT_POOL: PoolSettings = {
  size: 10,
  acquireTimeoutMs: 5000,
  statementTimeoutMs: 15_000,
  preparedMemory: DEFAULT_PREPARED_MEMORY,
  pooler: 'none',
};

/** The one MikroORM configuration: the gateway, the CLIs and the tests all build on it. */
export function createOrmOptions(options: {
  clientUrl: string;
  queryLog: QueryLog;
  pool?: Partial<PoolSettings>;
  entities: EntityClass<object>[];
  /** The domain's migrations and their folder; none for a test's own entities. */
  migrations?: { list: MigrationObject[]; folder: string };
}): Options {
  const pool = { ...DEFAULT_POOL, ...options.pool };
  return defineConfig({
    clientUrl: options.clientUrl,
    entities: options.entities,
    metadataProvider: ReflectMetadataProvider,
    // Migrations diff the entities against the tables they map, never the whole database.
    extensions: [MappedTablesMigrator],
    migrations: {
      // grantgate's bookkeeping lives in its own schema, never among the team's tables.
      tableName: MIGRATIONS_TABLE,
      migrationsList: options.migrations?.list ?? [],
      path: options.migrations?.folder,
      emit: 'ts',
      // The committed migrations are the source of truth; a snapshot file written at run time would
      // dirty the work tree (and race between parallel test files).
      snapshot: false,
      snapshotOnMigrate: false,
      silent: true,
    },
    // Every request must use its own fork; a query on the global EntityManager is a bug.
    allowGlobalContext: false,
    pool: { min: 0, max: pool.size },
    driverOptions: {
      // Statements with bind parameters (the compiled reads) are prepared once per connection.
      Client: PreparingClient,
      connectionTimeoutMillis: pool.acquireTimeoutMs,
      statement_timeout: pool.statementTimeoutMs,
      preparedMemory: pool.preparedMemory,
      pooler: pool.pooler,
    },
    loggerFactory: () => options.queryLog,
    // No entities on purpose only for a command that reads the catalog (db:import).
    discovery: {
      warnWhenNoEntities: options.entities.length > 0,
      afterDiscovered: (storage, platform) => {
        const metas = [...storage.getAll().values()];
        for (const meta of metas) if (isWritableView(meta.class)) writeThrough(meta);
        quoteWhole(
          platform,
          metas.flatMap((meta) => meta.props.flatMap((prop) => prop.fieldNames ?? [])),
        );
      },
    },
    // Row security: every read of every entity goes through this filter (security/system/).
    filters: { [securityFilter.name]: securityFilter },
    // SPEC §5: a row is judged by its own attributes; a hidden to-one target reads as null, it does
    // not hide the row that points to it (MikroORM's default would inner-join and drop that row).
    autoJoinRefsForFilters: false,
    // A relation loaded with its owner (populate) is read by a query of its own, which the security
    // filter limits like any other. A joined load would copy only the filter's property conditions
    // into the join's ON, and the row condition is SQL (security/system/condition-sql.ts): the join
    // would bring in rows of other tenants.
    loadStrategy: 'select-in',
    // The policies, the field-writes trigger and the functions they call are grantgate's, written by
    // the `*_row_security` migrations from the declarations, and an imported database's own triggers
    // and functions are its team's: the entity schema diff must neither drop them nor report them.
    schemaGenerator: { ignorePolicies: true, ignoreTriggers: true, ignoreRoutines: true },
  });
}

/** The ORM options' share of a domain: its entities and its migrations. */
export const domainOrmOptions = (domain: Domain) => ({
  entities: domain.entities,
  migrations: { list: domain.migrations, folder: migrationsFolderOf(domain) },
});

/**
 * A view declared writable (src/model/views.ts) is written like a table: MikroORM computes no change
 * for a read-only entity, and marks every view entity so. Only a view entity with a key can be one.
 */
function writeThrough(meta: EntityMetadata) {
  if (!meta.view || meta.primaryKeys.length === 0)
    throw new Error(`${meta.className}: @WritableView() is for a view entity with a key (view: true)`);
  meta.readonly = false;
}

/**
 * MikroORM quotes `a.b` as a qualified name, `"a"."b"`; an imported table's column may be named with
 * a dot (`"Name.Prefix"`), which an insert, an update or a returning list then misses. This ORM's
 * platform quotes such a column's name whole (a qualified `alias."Name.Prefix"` already comes out
 * right: only the first dot is split).
 */
function quoteWhole(platform: Platform, columns: string[]) {
  const dotted = new Set(columns.filter((column) => column.includes('.')));
  if (dotted.size === 0) return;
  const quote = platform.quoteIdentifier.bind(platform);
  platform.quoteIdentifier = (id, mark) =>
    typeof id === 'string' && dotted.has(id) ? `"${id.replaceAll('"', '""')}"` : quote(id, mark);
}
