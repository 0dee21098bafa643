import { LRUCache } from 'lru-cache';
import pg from 'pg';

/** Prepared statements kept per connection; the least recently used beyond this are deallocated. */
const STATEMENTS_PER_CONNECTION = 200;

/** What `begin` answers; its result is never read beyond this. */
const BEGIN_RESULT = { command: 'BEGIN', rowCount: null, oid: null, rows: [], fields: [] };

/** The parts of pg's connection these classes use (pg's types do not declare them). */
interface WireConnection {
  parsedStatements: Record<string, string>;
  parse(message: { text: string }): void;
  bind(message: object): void;
  execute(message: object): void;
}

/** The methods of pg's Query that it calls itself (pg's types do not declare them). */
const queryInternals = pg.Query.prototype as unknown as {
  prepare(this: pg.Query, connection: WireConnection): void;
  handleCommandComplete(this: pg.Query, message: unknown, connection: WireConnection): void;
};

/**
 * A named prepared statement sent with `begin` ahead of it, in the same write and before the same
 * Sync: PostgreSQL runs both in order, and the transaction begun stays open after it. `begin`'s
 * answer (its CommandComplete) is not one of the statement's results. Only for a statement already
 * parsed on the connection: a Parse of its own that failed would otherwise leave pg believing it
 * parsed (pg records the statement at the first ParseComplete of the exchange).
 */
class BeginThenStatement extends pg.Query {
  private beginAnswered = false;

  prepare(connection: WireConnection): void {
    connection.parse({ text: 'begin' });
    connection.bind({});
    connection.execute({});
    queryInternals.prepare.call(this, connection);
  }

  handleCommandComplete(message: unknown, connection: WireConnection): void {
    if (!this.beginAnswered) {
      this.beginAnswered = true;
      return;
    }
    queryInternals.handleCommandComplete.call(this, message, connection);
  }
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
 * `begin` is not sent on its own: it goes out with the statement that follows it (a request's
 * transaction settings, src/db/request-transaction.ts), one round trip fewer per request. A
 * transaction's snapshot is taken at its first statement anyway, so nothing is observed differently;
 * a `begin` that fails fails that statement.
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

  /** A `begin` answered but not sent yet: it goes with the next statement. */
  private beginDeferred = false;

  private wire(): WireConnection {
    return (this as unknown as { connection: WireConnection }).connection;
  }

  // pg's query() has many overloads; only (text, values) with values is changed, and `begin`.
  override query(...args: unknown[]): never {
    const [text, values, callback] = args;
    const promised = typeof text === 'string' && Array.isArray(values) && typeof callback !== 'function';
    if (promised && text === 'begin' && values.length === 0 && !this.beginDeferred) {
      this.beginDeferred = true;
      return Promise.resolve(BEGIN_RESULT) as never;
    }
    const prepared = promised && values.length > 0;
    const name = prepared ? this.nameOf(text) : undefined;
    if (this.beginDeferred) {
      this.beginDeferred = false;
      if (name !== undefined && this.wire().parsedStatements[name] === text)
        return this.afterBegin(name, text as string, values as unknown[]) as never;
      // Anything else goes after a `begin` of its own, as it was asked for.
      const begun = (super.query as (text: string) => Promise<unknown>)('begin');
      if (promised) return begun.then(() => this.query(...args)) as never;
      begun.catch(() => {}); // the next query, queued behind it, fails too
    }
    if (name !== undefined)
      return super.query({ name, text: text as string, values: values as unknown[] }) as never;
    return (super.query as (...a: unknown[]) => never)(...args);
  }

  /** The prepared statement's name on this connection, made up (and remembered) on its first use. */
  private nameOf(text: string): string {
    let name = this.prepared.get(text);
    if (!name) {
      name = `gg_${++nextName}`;
      this.prepared.set(text, name);
    }
    return name;
  }

  private afterBegin(name: string, text: string, values: unknown[]): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      const statement = new BeginThenStatement(
        { name, text, values },
        undefined,
        (error: Error | undefined, result) => (error ? reject(error) : resolve(result as pg.QueryResult)),
      );
      super.query(statement);
    });
  }
}
