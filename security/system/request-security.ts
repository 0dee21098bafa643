import { type EntityManager } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { type Verb } from './policy.js';
import { effectiveRoles, isSuperuser, rowSecurityFor } from './row-security.js';

export const forbidden = (message: string) =>
  new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });

/**
 * The security questions one request asks, answered for its user: may it use a verb on an entity,
 * read a field, and which attributes must its writes keep. Resolvers ask; they never decide.
 */
export class RequestSecurity {
  constructor(
    private readonly em: EntityManager,
    readonly user: AuthUser,
  ) {}

  private get engine() {
    return rowSecurityFor(this.em.getMetadata());
  }

  private describeUser() {
    return `User ${this.user.id} with roles [${effectiveRoles(this.user).join(', ')}]`;
  }

  /** Throws FORBIDDEN (SPEC §4's message) unless the user's roles allow `verb` on `entityName`. */
  authorize(entityName: string, verb: Verb): void {
    if (!this.engine.allows(this.user, entityName, verb)) {
      throw forbidden(`${this.describeUser()} does not have ${verb} access on entity: ${entityName}`);
    }
  }

  /** Throws FORBIDDEN unless the user holds one of `roles` (a field's @Authorized roles). */
  authorizeField(entityName: string, field: string, roles: readonly string[]): void {
    if (isSuperuser(this.user) || roles.some((role) => effectiveRoles(this.user).includes(role))) return;
    throw forbidden(`${this.describeUser()} does not have read access on field: ${entityName}.${field}`);
  }

  /** The user's own value of each global-filter attribute that constrains it on `entityName`. */
  constrainedValues(entityName: string): Map<string, unknown> {
    return new Map(
      this.engine
        .constrainedAttributes(this.user, entityName)
        .map((attribute) => [attribute, this.user.attributes[attribute]]),
    );
  }
}
