import { type EntityManager, type FilterQuery } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { effectiveRoles, type ScalarValue } from './identity.js';
import { type Verb } from './policy.js';
import { type RowAccess } from './row-security.js';
import { type SecurityModel } from './security-model.js';

const forbidden = (message: string) => new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });

const badUserInput = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

type Input = Record<string, unknown>;

/**
 * The security questions of one request, answered by the security model for its user: may it use a
 * verb on an entity, read or write a field, which rows may it see, which values must its writes keep.
 * The API operations ask; they never decide.
 */
export class RequestSecurity implements RowAccess {
  constructor(
    private readonly model: SecurityModel,
    readonly user: AuthUser,
    /** The request's EntityManager: it builds the subqueries of visible keys (never runs them alone). */
    private readonly em: EntityManager,
  ) {}

  private describeUser() {
    return `User ${this.user.id} with roles [${effectiveRoles(this.user).join(', ')}]`;
  }

  predicate(entityName: string, em: EntityManager, parentsVisibleThrough?: string): FilterQuery<object> {
    return this.model.predicate(this.user, entityName, em, { parentsVisibleThrough });
  }

  describe(entityName: string) {
    return { user: this.user.id, applied: this.model.describe(this.user, entityName) };
  }

  /** Throws FORBIDDEN (SPEC §4's message) unless the user's roles allow `verb` on `entityName`. */
  authorize(entityName: string, verb: Verb): void {
    if (!this.model.allows(this.user, entityName, verb)) {
      throw forbidden(`${this.describeUser()} does not have ${verb} access on entity: ${entityName}`);
    }
  }

  /**
   * Throws FORBIDDEN unless the user may read `entityName.field` — needed to read it, to filter or
   * sort on it (which would reveal its values one comparison at a time), and to write it.
   */
  authorizeField(entityName: string, field: string, access: 'read' | 'write' = 'read'): void {
    if (this.model.mayUseField(this.user, entityName, field)) return;
    throw forbidden(`${this.describeUser()} does not have ${access} access on field: ${entityName}.${field}`);
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
        throw badUserInput(`${entityName}.${attribute} must be your own (${JSON.stringify(value)})`);
      }
    }
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
  relatedRowVisible(entityName: string, relation: string) {
    return this.model.relatedRowVisible(this.user, entityName, relation, this.em);
  }

  /** How to sort by a relation id without placing hidden related rows by their ids (undefined: as is). */
  relatedSortKey(entityName: string, relation: string) {
    return this.model.relatedSortKey(this.user, entityName, relation, this.em);
  }

  /** The transaction-local settings that tell the database's policies who the request is for. */
  databaseSettings(): [string, string][] {
    return this.model.databaseSettings(this.user);
  }
}
