import { type GraphQLResolveInfo, type OperationDefinitionNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { type Statement } from './statement.js';

/** Statements kept per gateway; the least recently used beyond these are built again when asked for. */
const MAX_STATEMENTS = 1000;
/** And at most this many characters of keys, SQL text and parameters together. */
const MAX_CHARACTERS = 16_000_000;
/**
 * A statement larger than this is built for its request and not kept: a one-off (a document's long
 * literals, a long list in a variable) would push out a thousand common ones.
 */
export const MAX_KEPT_CHARACTERS = 64_000;

/**
 * What a statement holds, in characters: its key (the variables among it), its SQL and its parameters
 * (a string as long as it is, any other value as eight). A document's literals are parameters too,
 * and a request body may carry a megabyte of them.
 */
const charactersOf = (statement: Statement, key: string) =>
  statement.params.reduce<number>(
    (sum, param) => sum + (typeof param === 'string' ? param.length : 8),
    key.length + statement.sql.length,
  );

/** A value that does not stand for itself in JSON (see `exactJson`). */
class NotPlain extends Error {}

/**
 * `value` as JSON when the JSON says everything about it: strings, finite numbers, booleans, null,
 * valid dates, arrays and plain objects of those. Anything else (a bigint, an object of a class, NaN)
 * gives undefined: two values that JSON would write alike must never share a key.
 */
function exactJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, function (this: Record<string, unknown>, key: string, converted: unknown) {
      const original = this[key];
      if (original instanceof Date) {
        if (Number.isNaN(original.getTime())) throw new NotPlain();
        return converted;
      }
      if (typeof original === 'number' && !Number.isFinite(original)) throw new NotPlain();
      if (original === null || ['string', 'number', 'boolean'].includes(typeof original)) return converted;
      if (Array.isArray(original)) return converted;
      if (typeof original === 'object') {
        const prototype = Object.getPrototypeOf(original) as unknown;
        if (prototype === Object.prototype || prototype === null) return converted;
      }
      throw new NotPlain();
    });
  } catch (error) {
    if (error instanceof NotPlain) return undefined;
    throw error;
  }
}

/**
 * The compiled statements of one gateway's read root fields, so that a document asked again skips
 * planning the read and building its query builders (src/api/compiled-read.ts: a fifth of a
 * four-level read's CPU in a profile). A statement's text and parameters are a function of exactly
 * what the key holds:
 * - the operation: the parsed document Apollo keeps per query text (the same object while it stays
 *   in Apollo's document cache), with its literals, fragments and directives;
 * - the root field's response key in it (aliases of one field may differ in arguments);
 * - every variable value, exactly (pages, conditions, @skip/@include, list lengths);
 * - whether the request takes answers as PostgreSQL writes them (src/http/response-splices.ts);
 * - the whole identity: id, roles and every attribute value. Grants, global filters, scopes and
 *   field permissions are decided by the security model from these alone, so a user never receives
 *   a statement built for another identity (nor another user of the same roles: the attribute values
 *   are among its parameters).
 * The gateway's security model and options are fixed for its life, and the cache is the gateway's.
 * Only reads are cached: a mutation's read-back depends on the row it wrote.
 */
export class CompiledStatements {
  private readonly operations = new WeakMap<OperationDefinitionNode, number>();
  private operationCount = 0;
  private readonly statements = new LRUCache<string, Statement>({
    max: MAX_STATEMENTS,
    maxSize: MAX_CHARACTERS,
    sizeCalculation: charactersOf,
  });

  /** Look-ups that found their statement kept, and those that built it (the metrics). */
  hits = 0;
  misses = 0;

  /** The statement of the query root field `info` for `user`: built by `build` unless known already. */
  statement(info: GraphQLResolveInfo, user: AuthUser, answers: boolean, build: () => Statement): Statement {
    const key = this.keyOf(info, user, answers);
    if (key === undefined) return build();
    const known = this.statements.get(key);
    if (known) {
      this.hits++;
      return known;
    }
    this.misses++;
    const built = build();
    if (charactersOf(built, key) <= MAX_KEPT_CHARACTERS)
      this.statements.set(key, Object.freeze({ ...built, params: Object.freeze([...built.params]) }));
    return built;
  }

  /** How many statements are kept (for tests). */
  get size(): number {
    return this.statements.size;
  }

  private keyOf(info: GraphQLResolveInfo, user: AuthUser, answers: boolean): string | undefined {
    if (info.operation.operation !== 'query' || info.path.prev !== undefined) return undefined;
    let operation = this.operations.get(info.operation);
    if (operation === undefined) {
      operation = ++this.operationCount;
      this.operations.set(info.operation, operation);
    }
    return exactJson([
      operation,
      info.path.key,
      info.variableValues,
      answers,
      [user.id, user.roles, user.attributes],
    ]);
  }
}
