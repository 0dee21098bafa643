import { type EntityManager } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { type AuthUser, effectiveRoles, type ScalarValue } from './identity.js';
import { type Verb } from './policy.js';
import { type RowAccess, SECURITY_FILTER, sqlCondition } from './row-security.js';
import { type SecurityModel } from './security-model.js';
import { type RowSql, type SqlFragment } from './sql-fragment.js';

/**
 * Every denial carries the label of the rule that decided it in `extensions.rule`: a developer sees it
 * in the response, and in production the error formatter keeps it out of the response while the
 * request log records it under the request id (SPEC §10).
 */
const forbidden = (message: string, rule: string) =>
  new GraphQLError(message, { extensions: { code: 'FORBIDDEN', rule } });

const badUserInput = (message: string, rule?: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(rule ? { rule } : {}) } });

type Input = Record<string, unknown>;

const notVisibleAfterWrite = (entityName: string, rule: string) =>
  badUserInput(`This ${entityName} would not be visible to you after the change; nothing was written`, rule);

/**
 * The security questions of one request, answered by the security model for its user: may it use a
 * verb on an entity, read or write a field, which rows may it see, which values must its writes keep.
 * The API operations ask; they never decide.
 */
export class RequestSecurity implements RowAccess {
  constructor(
    private readonly model: SecurityModel,
    readonly user: AuthUser,
  ) {}

  private describeUser() {
    return `User ${this.user.id} with roles [${effectiveRoles(this.user).join(', ')}]`;
  }

  rowSql(entityName: string, row: string, parentsVisibleThrough?: string): SqlFragment | undefined {
    return this.model.rowSql(this.user, entityName, row, { parentsVisibleThrough });
  }

  ruleLabels(entityName: string): string[] {
    return this.model.ruleLabels(this.user, entityName);
  }

  describe(entityName: string) {
    return { user: this.user.id, applied: this.model.describe(this.user, entityName) };
  }

  /** Throws FORBIDDEN (SPEC §4's message) unless the user's roles allow `verb` on `entityName`. */
  authorize(entityName: string, verb: Verb): void {
    if (!this.model.allows(this.user, entityName, verb)) {
      throw forbidden(
        `${this.describeUser()} does not have ${verb} access on entity: ${entityName}`,
        this.model.verbDenial(this.user, entityName, verb),
      );
    }
  }

  /**
   * Throws FORBIDDEN unless the user may read `entityName.field` — needed to read it, to filter or
   * sort on it (which would reveal its values one comparison at a time), and to write it.
   */
  authorizeField(entityName: string, field: string, access: 'read' | 'write' = 'read'): void {
    if (this.model.mayUseField(this.user, entityName, field)) return;
    throw forbidden(
      `${this.describeUser()} does not have ${access} access on field: ${entityName}.${field}`,
      this.model.fieldDenial(entityName, field),
    );
  }

  /**
   * Throws FORBIDDEN unless the user may aggregate `entityName` (count, sum, group its rows): it must
   * read the entity, and one of its roles that reads it must not be denied aggregates (`noAggregates`).
   */
  authorizeAggregate(entityName: string): void {
    this.authorize(entityName, 'read');
    const rule = this.model.aggregateDenial(this.user, entityName);
    if (rule !== undefined) {
      throw forbidden(`${this.describeUser()} does not have aggregate access on entity: ${entityName}`, rule);
    }
  }

  /** True when the user may read `entityName.field` (what `authorizeField` checks, without throwing). */
  mayReadField(entityName: string, field: string): boolean {
    return this.model.mayUseField(this.user, entityName, field);
  }

  /** The verb, then every field the input sets: nothing is written unless all of it is allowed. */
  authorizeWrite(entityName: string, verb: 'insert' | 'update', fields: string[]): void {
    this.authorize(entityName, verb);
    for (const field of fields) this.authorizeField(entityName, field, 'write');
  }

  /**
   * An insert's input with each global-filter attribute that constrains the user on `entityName`
   * stamped from the user when omitted (clientId ← currentUser.clientId); a different value is refused.
   */
  stampInsert(entityName: string, input: Input): Input {
    this.refuseForeignValues(entityName, input);
    const stamped = { ...input };
    for (const [attribute, value] of this.constrainedValues(entityName)) {
      if (stamped[attribute] === undefined && value !== undefined) stamped[attribute] = value;
    }
    return stamped;
  }

  /** BAD_USER_INPUT when a write sets a constrained attribute to another value than the user's own. */
  refuseForeignValues(entityName: string, input: Input): void {
    for (const [attribute, value] of this.constrainedValues(entityName)) {
      if (input[attribute] !== undefined && value !== undefined && input[attribute] !== value) {
        throw badUserInput(
          `${entityName}.${attribute} must be your own (${JSON.stringify(value)})`,
          this.model.globalFilterLabel(this.user, entityName, attribute),
        );
      }
    }
  }

  /**
   * The refusal of a write whose row the user could not see afterwards (like PostgreSQL's WITH CHECK),
   * naming the rule that hides it: the first conjunct of the user's predicate that the written row,
   * still inside the write's transaction `em`, fails.
   */
  async notVisibleAfterWrite(
    em: EntityManager,
    entityName: string,
    key: Record<string, unknown>,
  ): Promise<GraphQLError> {
    const meta = this.model.entity(entityName);
    const partsOn = (row: string) => this.model.predicateParts(this.user, entityName, row);
    let rule = 'The database’s row-level security policies.';
    for (const [index, part] of partsOn('row').entries()) {
      // `key`: the written row's key as a condition, one entry per key column.
      const where = { $and: [key, sqlCondition((row) => partsOn(row)[index]!.sql)] };
      if ((await em.count(meta.class, where as never, { filters: { [SECURITY_FILTER]: false } })) === 0) {
        rule = part.label;
        break;
      }
    }
    return notVisibleAfterWrite(entityName, rule);
  }

  /**
   * The same refusal when the database's WITH CHECK refused the row: a restrictive policy names its
   * rule; a refusal that names none is the verb's permissive policy (database-policies.ts), FORBIDDEN.
   */
  refusedByDatabase(entityName: string, verb: Verb, message: string): GraphQLError {
    const policy = /row-level security policy "([^"]+)"/.exec(message)?.[1];
    if (!policy && verb !== 'read' && !this.model.allows(this.user, entityName, verb)) {
      return forbidden(
        `${this.describeUser()} does not have ${verb} access on entity: ${entityName}`,
        this.model.verbDenial(this.user, entityName, verb),
      );
    }
    const rule =
      (policy && this.model.databasePolicyLabel(entityName, policy, this.user)) ??
      'The database’s row-level security policies.';
    return notVisibleAfterWrite(entityName, rule);
  }

  /**
   * The refusal of a write the database's field-writes trigger stopped: the field (`undefined` when
   * its column is no single field's) none of the user's roles may write (database-policies.ts). The
   * gateway checks the same before writing; this is the second layer's answer when it did not.
   */
  fieldRefusedByDatabase(entityName: string, field: string | undefined): GraphQLError {
    return forbidden(
      `${this.describeUser()} does not have write access on field: ${entityName}.${field ?? '(a field)'}`,
      field ? this.model.fieldDenial(entityName, field) : 'The database’s field-writes trigger.',
    );
  }

  /**
   * The user's own value of each global-filter attribute that constrains it on `entityName`
   * (undefined when the user has no usable value: then no row is visible and nothing can be stamped).
   */
  private constrainedValues(entityName: string): Map<string, ScalarValue | undefined> {
    return new Map(
      this.model
        .constrainedAttributes(this.user, entityName)
        .map((attribute) => [attribute, this.model.userValue(this.user, attribute)]),
    );
  }

  /**
   * The condition that `entityName.relation` points at a row the user may see (undefined: none
   * needed). A condition on a relation id matches only through it, so filters cannot enumerate hidden
   * rows.
   */
  relatedRowVisible(entityName: string, relation: string): RowSql | undefined {
    return this.model.relatedRowVisible(this.user, entityName, relation);
  }

  /** How to sort by a relation id without placing hidden related rows by their ids (undefined: as is). */
  relatedSortKey(entityName: string, relation: string): RowSql | undefined {
    return this.model.relatedSortKey(this.user, entityName, relation);
  }

  /** True when the user's rows of `entityName` are those whose parent it may see (a scope applies). */
  throughScope(entityName: string): boolean {
    return this.model.throughScope(this.user, entityName);
  }

  /** The transaction-local settings that tell the database's policies who the request is for. */
  databaseSettings(): [string, string][] {
    return this.model.databaseSettings(this.user);
  }
}
