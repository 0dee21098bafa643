import { type EntityManager } from '@mikro-orm/postgresql';
import { OperationTypeNode } from 'graphql';
import { type RequestSecurity } from '../../security/system/request-security.js';
import { compileSql, sql } from '../../security/system/sql-fragment.js';
import { selectBound } from './bound-query.js';
import { isSettingsStatement } from './preparing-client.js';

/** How requests meet the database's row-level security (see security/database/database-role.ts). */
export interface DatabaseSecurity {
  /** Mode "one privileged URL": the role each request transaction switches to (SET LOCAL ROLE). */
  switchToRole?: string;
}

/** See `requestSettings`: the smallest work_mem PostgreSQL accepts. */
export const REQUEST_WORK_MEM = '64kB';

/**
 * The server's work_mem again (what it would be without the request's settings), until the transaction
 * ends or sets it anew: for a statement that visits every row (src/api/compiled-read.ts `count`).
 * set_config with a null value resets the setting to its default, transaction-locally; rather than
 * `SET LOCAL … TO DEFAULT`, which in a read's implicit transaction (src/db/preparing-client.ts) made
 * PostgreSQL warn "SET LOCAL can only be used in transaction blocks" into its log on every count
 * (58 000 lines in a day of benchmarks; a fifth of a count's throughput under pgbench), and rather than
 * reading pg_settings' reset_val, which builds every setting's row (~1.2 ms of server time).
 */
export const SERVER_WORK_MEM = "select set_config('work_mem', null, true)";

/** The transaction-local settings of a request: who it is for, and the role it runs as. */
export function requestSettings(security: RequestSecurity, database: DatabaseSecurity): [string, string][] {
  const settings = security.databaseSettings();
  if (database.switchToRole) settings.push(['role', database.switchToRole]);
  // A request's statement returns a page of rows, but the planner prices a scope's per-row parent
  // look-up as if it ran over the whole table, and JIT-compiles it for far longer than the read
  // takes (measured: 600 ms of compilation for a 10 ms read of 50 orders at scale 500).
  settings.push(['jit', 'off']);
  // A scope is an `exists` on the parent's key that PostgreSQL may hash (every visible parent, once per
  // statement) or look up per row (security-model.ts `parentVisible`, and the database's scope policies).
  // It picks without seeing the page's limit, so it would hash a tenant's 16 000 customers to return 50
  // orders. It hashes a subplan only when the hash fits in work_mem (× hash_mem_multiplier): this
  // bound keeps small parent sets (the demo's, a few thousand keys) hashed and makes large ones per-row
  // look-ups, so a page costs what it returns (S3 at scale 500: 50 ms → 5 ms of database time). Sorts
  // of a page stay in memory (top-N); a count, which visits every row, has the server's work_mem back
  // for its own statement (SERVER_WORK_MEM).
  settings.push(['work_mem', REQUEST_WORK_MEM]);
  // And the multiplier at its least: the database's policies add conditions on the parents whose
  // selectivity the planner guesses, so it underestimates a large tenant's parents (2 296 of 16 445
  // customers at scale 500) and, at twice work_mem, hashed them for a page (S3: 160 → 782
  // executions/s under pgbench at scale 500).
  settings.push(['hash_mem_multiplier', '1']);
  // A compiled read is a prepared statement (src/db/preparing-client.ts) whose page sizes are
  // parameters. Not knowing their values, the planner prices `limit $n` as a tenth of the table, so on a
  // large table the generic plan looks far costlier than one planned for the values, and PostgreSQL
  // plans the statement anew on every execution although the plan comes out the same (index look-ups
  // shaped by the row security). Planned once per connection instead: S3 at scale 500 with pgbench
  // 519 → 838 executions/s, through HTTP 267 → 441 req/s. What it gives up: a plan that adapts to a
  // filter value's selectivity, which PostgreSQL's own choice (`auto`) gives up too on small tables.
  settings.push(['plan_cache_mode', 'force_generic_plan']);
  return settings;
}

/** The statements a request's transaction adds around its own (begin, the settings, its end). */
export const isTransactionFraming = (sql: string) =>
  /^(begin|start transaction read only|commit|rollback)$/.test(sql) || isSettingsStatement(sql);

/**
 * Applies `settings` with set_config(…, true): they last until `em`'s transaction ends. One statement
 * with the settings as bind parameters, prepared once per connection like the compiled reads.
 */
export async function setLocal(em: EntityManager, settings: [string, string][]): Promise<void> {
  await selectBound(em, { sql: settingsSql(settings.length), params: settings.flat() });
}

/**
 * The text of `setLocal`'s statement for `count` settings, compiled once per count: every request
 * sends one, and compiling it anew was a few per cent of a small read's CPU.
 */
const settingsTexts = new Map<number, string>();
function settingsSql(count: number): string {
  let text = settingsTexts.get(count);
  if (text === undefined) {
    const calls = Array.from({ length: count }, () => sql`set_config(${''}, ${''}, true)`);
    text = compileSql(sql`select ${sql.join(calls)}`).sql;
    settingsTexts.set(count, text);
  }
  return text;
}

/**
 * One transaction per authenticated request, opened by the first data field and committed when every
 * resolver has settled. Its settings are local to it (set_config(…, true)), so they end with it and
 * never reach the next request on the same pooled connection. A query's transaction is read-only;
 * the pool's client runs each of its statements in a transaction of its own with the same settings,
 * in one round trip (src/db/preparing-client.ts).
 */
export class RequestTransaction {
  private opened?: Promise<void>;

  constructor(
    private readonly em: EntityManager,
    private readonly settings: [string, string][],
    /**
     * `em` while the request is within its deadline (src/http/request-deadline.ts): a transaction is
     * not begun, nor its settings applied, once the request is out of time. Closing always works.
     */
    private readonly emInTime: () => EntityManager = () => em,
  ) {}

  /**
   * Begins the transaction and applies the settings, once per request: read-only for a query (its
   * first field decides; a request runs one operation).
   */
  open(operation: OperationTypeNode): Promise<void> {
    return (this.opened ??= (async () => {
      await this.emInTime().begin({ readOnly: operation === OperationTypeNode.QUERY });
      // `begin` may have waited past the deadline for a connection; close() rolls it back.
      await setLocal(this.emInTime(), this.settings);
    })());
  }

  /** Commits (a transaction that failed on the way rolls back); throws when the commit itself failed. */
  async close(): Promise<void> {
    if (!this.opened) return;
    try {
      await this.opened;
    } catch {
      if (this.em.isInTransaction()) await this.em.rollback();
      return;
    }
    try {
      // Every mutation flushed inside its own nested transaction; what is left in the identity map was
      // only read, and em.commit() would compare all of it against its snapshots for nothing.
      this.em.clear();
      await this.em.commit();
    } catch (error) {
      if (this.em.isInTransaction()) await this.em.rollback().catch(() => {});
      throw error;
    }
  }
}
