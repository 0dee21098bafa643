import { LRUCache } from 'lru-cache';
import pg from 'pg';

/** Prepared statements kept per connection; the least recently used beyond this are deallocated. */
const STATEMENTS_PER_CONNECTION = 200;

/** How a request's read transaction is begun (MikroORM's `begin({ readOnly: true })`, through Kysely). */
const BEGIN_READ_ONLY = 'start transaction read only';

/** The first statement of a read's frame: what `start transaction read only` would have made it. */
const READ_ONLY = "select set_config('transaction_read_only', 'on', true)";

/**
 * A statement that only sets transaction-local settings: a request's (src/db/request-transaction.ts
 * `setLocal`, `SERVER_WORK_MEM`). Nobody reads what it answers, so it may be answered before it is sent.
 */
export const isSettingsStatement = (sql: string) => /^(select set_config\(|set local )/.test(sql);

/** What a statement of the framing answers when it is not sent (yet); nobody reads more of it. */
const answered = (command: string) => ({ command, rowCount: null, oid: null, rows: [], fields: [] });

/** A named prepared statement with its values, as pg's Query takes it. */
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
  sync(): void;
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
 */
class FramedStatement extends pg.Query {
  /** The CommandCompletes still to come before the statement's own. */
  private frameAnswers: number;

  constructor(
    statement: StatementConfig,
    private readonly frame: NamedStatement[],
    callback: Callback,
  ) {
    super(statement, undefined, callback);
    this.frameAnswers = frame.length;
  }

  prepare(connection: WireConnection): void {
    for (const { name, values } of this.frame) {
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

let nextName = 0;

/**
 * The `pg` client of the gateway's pool. A statement sent with bind parameters — the compiled reads
 * (src/db/bound-query.ts); MikroORM sends its own statements with the values inlined — becomes a
 * named prepared statement of its connection, so PostgreSQL parses it, expands the row-level security
 * policies into it and plans it once instead of on every request (measured on the demo data: a
 * five-level read 14.3 ms → 3.9 ms). PostGraphile does the same. Names are unique per preparation,
 * so a statement deallocated and prepared again never meets its old self.
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
  private readonly prepared = new LRUCache<string, string>({
    max: STATEMENTS_PER_CONNECTION,
    dispose: (name) => {
      // Forgotten first, so a later use prepares anew (under a new name) rather than relying on it;
      // the deallocation is queued on this connection like any query.
      delete this.wire().parsedStatements[name];
      super.query(`deallocate "${name}"`).catch(() => {});
    },
  });

  private framing?: Framing;

  /** The last framed exchange queued: a read's end waits for it (see `send`). */
  private lastFramed: Promise<unknown> = Promise.resolve();

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
      this.framing = { perStatement, frame: [this.named(perStatement ? READ_ONLY : 'begin', [])] };
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
    if (framing) {
      if (!framing.perStatement) this.framing = undefined;
      return this.framed(text, values, framing.frame);
    }
    if (values.length > 0) return super.query(this.named(text, values));
    return super.query(text, values);
  }

  private named(text: string, values: unknown[]): NamedStatement {
    let name = this.prepared.get(text);
    if (!name) {
      name = `gg_${++nextName}`;
      this.prepared.set(text, name);
    }
    return { name, text, values };
  }

  /**
   * `text` behind `frame`, in one exchange. The frame's statements not parsed on the connection yet
   * are parsed in an exchange of their own just before it (once per connection): within the exchange
   * their ParseCompletes would be taken for the statement's own, which pg then believes parsed even
   * if its Parse fails. Both are queued at once, so nothing else sent on the connection comes between.
   */
  private framed(text: string, values: unknown[], framing: NamedStatement[]): Promise<unknown> {
    // The frame as it stands now: a read's frame grows with later settings (a count's work_mem), which
    // are not this statement's even if it still waits for the connection.
    const frame = [...framing];
    // A statement without values (MikroORM's, values inlined) is parsed unnamed within the exchange.
    const statement: StatementConfig =
      values.length > 0 ? this.named(text, values) : { text, values, queryMode: 'extended' };
    const wire = this.wire();
    const unparsed = frame.filter(({ name, text }) => wire.parsedStatements[name] !== text);
    const parsed = unparsed.length === 0 ? undefined : this.parse(unique(unparsed));
    const result = new Promise((resolve, reject) => {
      super.query(
        new FramedStatement(statement, frame, (error, rows) => (error ? reject(error) : resolve(rows))),
      );
    });
    this.lastFramed = result;
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
          for (const { text } of statements) this.prepared.delete(text);
          reject(error);
        }),
      );
    });
  }
}

/** Each named statement once (a frame may repeat a setting). */
const unique = (statements: NamedStatement[]) => [...new Map(statements.map((s) => [s.name, s])).values()];
