import pg from 'pg';
import { inStatementSpan } from '../tracing.js';
import { type Pooler } from './pooler.js';
import { statementDeadlines } from './statement-deadline.js';

/**
 * What the statements kept prepared may cost their backends, as estimated (`estimatedBytes`).
 * PostgreSQL holds every prepared statement's parse tree and generic plan until it is closed: bounded
 * by count only (200 per connection), distinct five-level reads grew one backend by 87 MB.
 */
export interface PreparedMemory {
  /** At most this much per connection. */
  connectionBytes: number;
  /** At most this much across a pool's connections: each keeps at most its share (÷ the pool's size). */
  totalBytes: number;
}

/**
 * 32 MiB per connection as estimated, which the plans themselves stay below (the red team's 360
 * distinct five-level reads on one connection: 25 kept, 10 MB of plans, against 158 MB were every one
 * kept). With one statement too large to keep (it lasts until the next unnamed one) and the catalog
 * caches, a backend grows by less than 64 MB (test/db/prepared-memory.test.ts). A pool keeps 256 MiB
 * at most: 25.6 MiB per connection at its default size of 10.
 */
export const DEFAULT_PREPARED_MEMORY: PreparedMemory = {
  connectionBytes: 32 * 2 ** 20,
  totalBytes: 256 * 2 ** 20,
};

/** Behind a pooler in transaction mode: a server connection's statements are not this client's to keep. */
const NOTHING_KEPT: PreparedMemory = { connectionBytes: 0, totalBytes: 0 };

/**
 * What a prepared statement costs its backend (its CachedPlanSource, CachedPlanQuery and CachedPlan
 * memory contexts), estimated from its text. Measured for the demo domain's reads under row
 * security, as every kind of user: 20 kB for the smallest, then 200 to 1,060 bytes per character of
 * SQL, as the policies PostgreSQL expands into each table reference (the grants' among them) are not in
 * the text. Bind parameters cost no more than their characters (an `in` of 1000 values: 355 kB for
 * 3,175 characters). This is above each of them, with room for policies longer than the demo's
 * (test/db/prepared-memory.test.ts), so what the budget admits bounds what the backends hold.
 */
export const estimatedBytes = (text: string) => 16 * 1024 + 1536 * text.length;

/**
 * Statements beyond these are not kept: they run unnamed, and PostgreSQL drops them with the next
 * unnamed one. A compiled read of five levels with every field is under 2,000 characters and 50
 * parameters; longer ones, and long `in` lists (each length another statement), are rare, and each
 * would push out several common ones.
 */
export const MAX_KEPT_LENGTH = 8192;
export const MAX_KEPT_PARAMETERS = 256;

/** How a request's read transaction is begun (MikroORM's `begin({ readOnly: true })`, through Kysely). */
const BEGIN_READ_ONLY = 'start transaction read only';

/** The first statement of a read's frame: what `start transaction read only` would have made it. */
const READ_ONLY = "select set_config('transaction_read_only', 'on', true)";

/** Behind a pooler, the second: the connection's statement_timeout, for the transaction alone. */
const STATEMENT_TIMEOUT = "select set_config('statement_timeout', $1, true)";

/**
 * A statement that only sets transaction-local settings: a request's (src/db/request-transaction.ts
 * `setLocal`, `SERVER_WORK_MEM`). Nobody reads what it answers, so it may be answered before it is sent.
 */
export const isSettingsStatement = (sql: string) => /^select set_config\(/.test(sql);

/** What a statement of the framing answers when it is not sent (yet); nobody reads more of it. */
const answered = (command: string) => ({ command, rowCount: null, oid: null, rows: [], fields: [] });

/** A named prepared statement with its values, as pg's Query takes it; named '' behind a pooler. */
interface NamedStatement {
  name: string;
  text: string;
  values: unknown[];
}

/** The parts of pg's connection these classes use (pg's types do not declare them). */
interface WireConnection {
  parsedStatements: Record<string, string>;
  parse(message: { name: string; text: string }): void;
  bind(message: { statement: string; values: unknown[] }): void;
  execute(message: object): void;
  close(message: { type: 'S'; name: string }): void;
  sync(): void;
}

/** pg's connection as a cancel request uses it (pg's types do not declare these). */
interface CancelConnection {
  on(event: 'connect' | 'error', listener: () => void): void;
  connect(portOrPath: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
}

/** The methods of pg's Query that it calls itself (pg's types do not declare them). */
const queryInternals = pg.Query.prototype as unknown as {
  prepare(this: pg.Query, connection: WireConnection): void;
  handleCommandComplete(this: pg.Query, message: unknown, connection: WireConnection): void;
  handleDataRow(this: pg.Query, message: unknown): void;
};

/** pg's query config, with the protocol switch its types do not declare. */
type StatementConfig = pg.QueryConfig & { queryMode?: 'extended' };

type Callback = (error: Error | undefined, result: unknown) => void;

/**
 * Parses named statements on the connection and nothing more: one exchange, so that the framed
 * exchange after it only binds them. A Parse among several that failed cannot be told from those that
 * succeeded, so the caller forgets all of them then.
 */
class ParseStatements extends pg.Query {
  constructor(
    private readonly statements: NamedStatement[],
    callback: Callback,
  ) {
    super({ text: statements.map((statement) => statement.name).join(', ') }, undefined, callback);
  }

  requiresPreparation(): boolean {
    return true;
  }

  prepare(connection: WireConnection): void {
    for (const { name, text } of this.statements) connection.parse({ name, text });
    connection.sync();
  }
}

/**
 * A statement sent behind its frame — statements already parsed on the connection, only bound and
 * executed — in the same write and before the same Sync, so PostgreSQL runs them in order, in one
 * round trip. The frame's answers (CommandComplete, a settings row) are not the statement's results;
 * an error in the frame fails the statement.
 *
 * Ahead of all of it go the Closes of the statements the connection no longer keeps: they cost no round
 * trip of their own, and they run whatever the transaction's state (a DEALLOCATE fails in a failed
 * transaction, and its statement would stay). They come first, so no error before them in the exchange
 * makes PostgreSQL skip them; their CloseCompletes are ignored by pg. Queued behind every statement
 * that might still use those names, they are written only when their turn comes, and pg forgets the
 * names as parsed only then.
 */
class FramedStatement extends pg.Query {
  /** The CommandCompletes still to come before the statement's own. */
  private frameAnswers: number;

  constructor(
    statement: StatementConfig,
    private readonly frame: NamedStatement[],
    private readonly closing: string[],
    callback: Callback,
  ) {
    super(statement, undefined, callback);
    this.frameAnswers = frame.length;
  }

  prepare(connection: WireConnection): void {
    for (const name of this.closing) {
      connection.close({ type: 'S', name });
      delete connection.parsedStatements[name];
    }
    for (const { name, text, values } of this.frame) {
      // Unnamed (behind a pooler): parsed here, each replacing the one before.
      if (name === '') connection.parse({ name, text });
      connection.bind({ statement: name, values });
      connection.execute({});
    }
    queryInternals.prepare.call(this, connection);
  }

  handleDataRow(message: unknown): void {
    if (this.frameAnswers === 0) queryInternals.handleDataRow.call(this, message);
  }

  handleCommandComplete(message: unknown, connection: WireConnection): void {
    if (this.frameAnswers > 0) this.frameAnswers--;
    else queryInternals.handleCommandComplete.call(this, message, connection);
  }
}

/**
 * A transaction answered as begun, whose statements so far were only its settings: nothing of it has
 * been sent.
 */
interface Framing {
  /**
   * A read (`start transaction read only`): every statement runs in a read-only transaction of its
   * own, behind the whole frame. Otherwise the frame begins the transaction, with its first statement.
   */
  perStatement: boolean;
  frame: NamedStatement[];
}

/** A statement kept prepared on the connection, and what it is estimated to cost there. */
interface Kept {
  name: string;
  bytes: number;
}

/** pg's client configuration, and this client's. */
export type PreparingClientConfig = pg.ClientConfig & {
  /** Unset: DEFAULT_PREPARED_MEMORY. */
  preparedMemory?: Partial<PreparedMemory>;
  /** The pool's size: pg-pool constructs its clients with its own options. */
  max?: number;
  /** A pooler in transaction mode stands between this client and PostgreSQL (src/db/pooler.ts). */
  pooler?: Pooler;
};

let nextName = 0;

/**
 * The `pg` client of the gateway's pool. A statement sent with bind parameters — the compiled reads
 * (src/db/bound-query.ts); MikroORM sends its own statements with the values inlined — becomes a
 * named prepared statement of its connection, so PostgreSQL parses it, expands the row-level security
 * policies into it and plans it once instead of on every request (measured on the demo data: a
 * five-level read 14.3 ms → 3.9 ms). PostGraphile does the same. Names are unique per preparation,
 * so a statement closed and prepared again never meets its old self.
 *
 * What the kept statements cost the backend is bounded by bytes (`PreparedMemory`, `estimatedBytes`):
 * beyond it the least recently used are closed. A statement too large to be worth keeping
 * (`MAX_KEPT_LENGTH`, `MAX_KEPT_PARAMETERS`) runs unnamed, and PostgreSQL drops it with the next one.
 *
 * A request's transaction (src/db/request-transaction.ts) costs no round trip of its own. Its `begin`
 * and its settings are answered at once and go out with the statement that follows them, in one
 * write. A read (`start transaction read only`) goes further: each of its statements is sent behind
 * the read-only setting and the request's settings, before one Sync, so PostgreSQL runs them as one
 * implicit transaction that ends with the statement — one round trip per statement, and nothing to
 * commit. Under READ COMMITTED each statement takes its own snapshot either way, so a read observes
 * nothing differently; a statement that fails leaves nothing open. A transaction that ends before any
 * statement was sent had nothing to send.
 */
export class PreparingClient extends pg.Client {
  /** The statements kept prepared, by text, the least recently used first. */
  private readonly prepared = new Map<string, Kept>();

  private preparedBytes = 0;

  /** What the kept statements may cost together: the connection's budget, or its share of the total. */
  private readonly budget: number;

  /** The names no longer kept, to be closed in front of the next exchange queued. */
  private closing: string[] = [];

  private framing?: Framing;

  /** The last exchange queued: a read's end waits for it (see `send`). */
  private lastFramed: Promise<unknown> = Promise.resolve();

  /**
   * Behind a pooler in transaction mode (src/db/pooler.ts) a server connection serves another client
   * after each transaction: this client keeps no statement prepared, parses its transaction's frame
   * unnamed within the exchange, and sets the statement_timeout in every transaction instead of the
   * connection (PgBouncer refuses it as a startup parameter).
   */
  private readonly pooled: boolean;

  /** Behind a pooler: the statement_timeout each transaction sets for itself. */
  private readonly transactionTimeout?: string;

  constructor(config?: string | PreparingClientConfig) {
    const options = typeof config === 'object' ? config : {};
    const pooled = options.pooler === 'transaction';
    super(pooled ? { ...options, statement_timeout: undefined } : config);
    this.pooled = pooled;
    const memory = pooled ? NOTHING_KEPT : { ...DEFAULT_PREPARED_MEMORY, ...options.preparedMemory };
    this.budget = Math.min(memory.connectionBytes, memory.totalBytes / (options.max ?? 1));
    if (pooled && options.statement_timeout) this.transactionTimeout = String(options.statement_timeout);
  }

  private wire(): WireConnection {
    return (this as unknown as { connection: WireConnection }).connection;
  }

  // pg's query() has many overloads; only (text, values), the form Kysely uses, is changed.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    if (typeof text !== 'string' || !Array.isArray(values) || typeof callback === 'function') {
      if (this.framing) throw new Error('a framed transaction takes statements as (text, values) only');
      return (super.query as (...a: unknown[]) => never)(...args);
    }
    return this.send(text, values) as never;
  }

  private send(text: string, values: unknown[]): Promise<unknown> {
    const framing = this.framing;
    if (values.length === 0 && (text === 'begin' || text === BEGIN_READ_ONLY)) {
      // A transaction that never ended (nothing of it was sent) is replaced, its frame with it.
      const perStatement = text === BEGIN_READ_ONLY;
      const frame = [this.named(perStatement ? READ_ONLY : 'begin', [])];
      if (this.transactionTimeout) frame.push(this.named(STATEMENT_TIMEOUT, [this.transactionTimeout]));
      this.framing = { perStatement, frame };
      return Promise.resolve(answered('BEGIN'));
    }
    if (framing && values.length === 0 && (text === 'commit' || text === 'rollback')) {
      this.framing = undefined;
      // The connection goes back to the pool once the transaction ends: not while a statement of it
      // still runs (one whose caller gave up — a cancel on its way would queue behind it).
      const done = () => answered(text.toUpperCase());
      return this.lastFramed.then(done, done);
    }
    if (framing && isSettingsStatement(text)) {
      framing.frame.push(this.named(text, values));
      return Promise.resolve(answered('SELECT'));
    }
    // A read's end waits for the statement as its caller sees it end (traced, past its deadline).
    if (framing) {
      if (!framing.perStatement) this.framing = undefined;
      return (this.lastFramed = this.sent(text, () => this.framed(text, values, framing.frame)));
    }
    if (values.length > 0) return (this.lastFramed = this.sent(text, () => this.framed(text, values, [])));
    return this.sent(text, () => super.query(text, values) as Promise<unknown>);
  }

  /** A statement `send` sends: traced (its text without values, its rows), and cancelled at its deadline. */
  private sent(text: string, send: () => Promise<unknown>): Promise<unknown> {
    return inStatementSpan(text, () => this.untilDeadline(send()) as Promise<{ rowCount?: number | null }>);
  }

  /**
   * A statement of a request still running at the request's deadline (src/db/statement-deadline.ts)
   * is cancelled in PostgreSQL, so that its connection is free again. By the protocol's cancel
   * request, on a connection of its own, with this connection's key: it needs no free connection of
   * the pool, which a `select pg_cancel_backend(pid)` would wait for (the request's transaction holds
   * its own), and a pooler passes it to the server that runs the statement, whose pid it hides.
   */
  private untilDeadline(sent: Promise<unknown>): Promise<unknown> {
    const deadline = statementDeadlines.getStore();
    if (!deadline) return sent;
    const cancel = () => this.cancelRunning();
    deadline.addEventListener('abort', cancel, { once: true });
    const done = () => deadline.removeEventListener('abort', cancel);
    sent.then(done, done);
    // Its caller stopped waiting at the deadline (the request's signal, given to Kysely with every
    // statement) and failed the request, which rolls back: the cancelled statement's own failure is
    // nobody's answer, and Kysely would print it to the console.
    return sent.catch((error: unknown) => {
      if (deadline.aborted) return answered('CANCELLED');
      throw error;
    });
  }

  private cancelRunning() {
    const self = this as unknown as { _activeQuery: unknown; processID: number; secretKey: number };
    if (!self._activeQuery) return;
    const canceller = new pg.Connection() as unknown as CancelConnection;
    // A cancel that cannot be delivered leaves the statement to its statement_timeout.
    canceller.on('error', () => {});
    canceller.on('connect', () => canceller.cancel(self.processID, self.secretKey));
    const { host, port } = this;
    if (host.startsWith('/')) canceller.connect(`${host}/.s.PGSQL.${port}`);
    else canceller.connect(port, host);
  }

  /**
   * `text` under the name it is kept by (a new one if it is not kept yet), the most recently used now;
   * unnamed behind a pooler.
   */
  private named(text: string, values: unknown[]): NamedStatement {
    if (this.pooled) return { name: '', text, values };
    let kept = this.prepared.get(text);
    if (kept) this.prepared.delete(text);
    else {
      kept = { name: `gg_${++nextName}`, bytes: estimatedBytes(text) };
      this.preparedBytes += kept.bytes;
    }
    this.prepared.set(text, kept);
    return { name: kept.name, text, values };
  }

  /**
   * `text` under its name if it is worth keeping: it has bind parameters (MikroORM inlines its values,
   * so each of its statements is another text) and is small enough. Otherwise undefined: it runs unnamed.
   */
  private kept(text: string, values: unknown[]): NamedStatement | undefined {
    const worthKeeping =
      values.length > 0 &&
      values.length <= MAX_KEPT_PARAMETERS &&
      text.length <= MAX_KEPT_LENGTH &&
      estimatedBytes(text) <= this.budget;
    return worthKeeping ? this.named(text, values) : undefined;
  }

  /**
   * Forgets the least recently used statements until the kept ones fit the budget, but none that
   * `exchange` binds: those stay even beyond it, until an exchange that does not need them.
   */
  private fitBudget(exchange: readonly StatementConfig[]) {
    const inUse = new Set(exchange.map(({ name }) => name));
    for (const [text, { name }] of this.prepared) {
      if (this.preparedBytes <= this.budget) return;
      if (!inUse.has(name)) this.forget(text, name);
    }
  }

  /** No longer keeps `text` (if it is still kept as `name`): it is closed in front of the next exchange. */
  private forget(text: string, name: string) {
    const kept = this.prepared.get(text);
    if (kept?.name !== name) return;
    this.prepared.delete(text);
    this.preparedBytes -= kept.bytes;
    this.closing.push(name);
  }

  /**
   * `text` behind `frame` (none outside a transaction's frame), in one exchange. The frame's statements
   * not parsed on the connection yet are parsed in an exchange of their own just before it (once per
   * connection): within the exchange their ParseCompletes would be taken for the statement's own,
   * which pg then believes parsed even if its Parse fails. Both are queued at once, so nothing else
   * sent on the connection comes between.
   */
  private framed(text: string, values: unknown[], framing: NamedStatement[]): Promise<unknown> {
    // The frame as it stands now: a read's frame grows with later settings (a count's work_mem), which
    // are not this statement's even if it still waits for the connection.
    const frame = [...framing];
    // A statement not worth keeping (MikroORM's, values inlined; a large one) is parsed unnamed
    // within the exchange.
    const statement: StatementConfig = this.kept(text, values) ?? {
      text,
      values,
      queryMode: 'extended',
    };
    this.fitBudget([...frame, statement]);
    const closing = this.closing;
    this.closing = [];
    const wire = this.wire();
    const unparsed = frame.filter(({ name, text }) => name !== '' && wire.parsedStatements[name] !== text);
    const parsed = unparsed.length === 0 ? undefined : this.parse(unique(unparsed));
    const result = new Promise((resolve, reject) => {
      super.query(
        new FramedStatement(statement, frame, closing, (error, rows) =>
          error ? reject(error) : resolve(rows),
        ),
      );
    });
    // A failed parse fails the statement too; its own error says why.
    return parsed ? Promise.all([parsed, result]).then(([, rows]) => rows) : result;
  }

  private parse(statements: NamedStatement[]): Promise<void> {
    const wire = this.wire();
    // Parsed from now on for every statement queued after this exchange, which runs after the parse:
    // parsing a name twice fails. (Kysely sends a transaction's statements one at a time; this client
    // does not count on it.)
    for (const { name, text } of statements) wire.parsedStatements[name] = text;
    return new Promise((resolve, reject) => {
      super.query(
        new ParseStatements(statements, (error) => {
          if (!error) return resolve();
          for (const { name, text } of statements) this.forget(text, name);
          reject(error);
        }),
      );
    });
  }
}

/** Each named statement once (a frame may repeat a setting). */
const unique = (statements: NamedStatement[]) => [...new Map(statements.map((s) => [s.name, s])).values()];
