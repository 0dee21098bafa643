import { type MetadataStorage } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { declareSecurity, type SecurityPolicy } from '../../security/system/policy.js';
import { SecurityDeclarationError } from '../../security/system/declaration-checks.js';
import { RequestSecurity } from '../../security/system/request-security.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import {
  Account,
  Country,
  DATABASE_ENTITIES,
  discoverMetadata,
  fixturePolicy,
  fixturePolicyWith,
  Invoice,
  Note,
  NotAnEntity,
  Payment,
  Reply,
  Ticket,
} from './fixtures.js';

/** Compilation needs only the entities' metadata: no database. */
const withNote = discoverMetadata([...DATABASE_ENTITIES, Note]);
const withoutNote = discoverMetadata(DATABASE_ENTITIES);
const cyclic = discoverMetadata([Ticket, Reply]);

/** The one line compilation stops with. */
function declarationError(policy: SecurityPolicy, metadata: MetadataStorage): string {
  let thrown: unknown;
  try {
    compileSecurityModel(policy, metadata);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(SecurityDeclarationError);
  const message = (thrown as Error).message;
  expect(message).not.toMatch(/\n/);
  return message;
}

describe('a mistake in the declarations stops compilation with one clear line', () => {
  it('an entity no tenant rule covers: names it and the three fixes', () => {
    expect(declarationError(fixturePolicy, withNote)).toBe(
      `Note is not covered by the tenant filter "clientId": give it a clientId property, ` +
        `declare scope(Note, '<to-one relation>') to a covered entity, or declare sharedByAllTenants(Note)`,
    );
  });

  it('an entity whose scope is missing is uncovered too', () => {
    const policy = declareSecurity(({ tenantFilter, scope, sharedByAllTenants }) => {
      tenantFilter('clientId', (user) => ({ clientId: user.clientId }), { rolesNotFiltered: [] });
      scope(Payment, 'invoice');
      sharedByAllTenants(Country);
    });
    expect(declarationError(policy, withoutNote)).toBe(
      `Invoice is not covered by the tenant filter "clientId": give it a clientId property, ` +
        `declare scope(Invoice, '<to-one relation>') to a covered entity, or declare sharedByAllTenants(Invoice)`,
    );
  });

  it('a scope through a to-many relation', () => {
    const policy = fixturePolicyWith(({ scope }) => scope(Account, 'invoices'));
    expect(declarationError(policy, withoutNote)).toBe(
      `scope(Account, 'invoices'): invoices is not a to-one relation of Account; a scope goes through a to-one relation (it has none)`,
    );
  });

  it('a scope through a column', () => {
    const policy = declareSecurity(({ scope }) => scope(Invoice, 'total'));
    expect(declarationError(policy, withoutNote)).toBe(
      `scope(Invoice, 'total'): total is a column of Invoice; a scope goes through a to-one relation (account)`,
    );
  });

  it('a scope through an unknown property', () => {
    const policy = declareSecurity(({ scope }) => scope(Payment, 'customer' as never));
    expect(declarationError(policy, withoutNote)).toBe(
      `scope(Payment, 'customer'): customer is not a property of Payment; a scope goes through a to-one relation (invoice, payer)`,
    );
  });

  it('two scopes on one entity', () => {
    const policy = fixturePolicyWith(({ scope }) => scope(Payment, 'payer'));
    expect(declarationError(policy, withoutNote)).toBe(
      `scope(Payment, 'payer'): Payment already has a scope; an entity has at most one`,
    );
  });

  it('a scope on a class that is not an entity', () => {
    const policy = declareSecurity(({ scope }) => scope(NotAnEntity, 'id'));
    expect(declarationError(policy, withoutNote)).toBe(
      'scope through id: NotAnEntity is not an entity of this gateway',
    );
  });

  it('a scope cycle', () => {
    const policy = declareSecurity(({ scope }) => {
      scope(Ticket, 'lastReply');
      scope(Reply, 'ticket');
    });
    expect(declarationError(policy, cyclic)).toBe(
      'scopes form a cycle (Ticket → Reply → Ticket): one entity of the cycle must carry the tenant column or be shared',
    );
  });

  it('two tenant filters', () => {
    const policy = fixturePolicyWith(({ tenantFilter }) =>
      tenantFilter('name', (user) => ({ name: user.name }), { rolesNotFiltered: [] }),
    );
    expect(declarationError(policy, withoutNote)).toBe(
      'tenantFilter is declared 2 times (clientId, name): declare one, and the others as globalFilter',
    );
  });

  it('a global filter whose attribute names no property', () => {
    const policy = fixturePolicyWith(({ globalFilter }) =>
      globalFilter('region', (user) => ({ region: user.region }), { rolesNotFiltered: [] }),
    );
    const message = declarationError(policy, withoutNote);
    expect(message).toMatch(
      /^global filter "region" names no property of any entity \(([A-Za-z]+, )+[A-Za-z]+\): check its spelling$/,
    );
    for (const entity of ['Account', 'Invoice', 'Payment', 'Country']) expect(message).toContain(entity);
  });

  it('a tenant filter that reads another user attribute than its own name', () => {
    const policy = declareSecurity(({ tenantFilter, scope, sharedByAllTenants }) => {
      tenantFilter('clientId', (user) => ({ clientId: user.tenant }), { rolesNotFiltered: [] });
      scope(Invoice, 'account');
      scope(Payment, 'invoice');
      sharedByAllTenants(Country);
    });
    expect(declarationError(policy, withoutNote)).toBe(
      'global filter "clientId" compares clientId with currentUser.tenant: it must read currentUser.clientId, ' +
        'the value inserts are stamped with (or be declared on "tenant")',
    );
  });

  it('a global filter that reads another user attribute than its own name, also inside $or', () => {
    const policy = fixturePolicyWith(({ globalFilter }) =>
      globalFilter('name', (user) => ({ $or: [{ name: 'x' }, { name: user.accountName }] }), {
        rolesNotFiltered: [],
      }),
    );
    expect(declarationError(policy, withoutNote)).toBe(
      'global filter "name" compares name with currentUser.accountName: it must read currentUser.name, ' +
        'the value inserts are stamped with (or be declared on "accountName")',
    );
  });

  it('sharedByAllTenants on an entity that has the tenant column', () => {
    const policy = fixturePolicyWith(({ sharedByAllTenants }) => sharedByAllTenants(Account));
    expect(declarationError(policy, withoutNote)).toBe(
      'sharedByAllTenants(Account): Account has the tenant column clientId, so it is not shared; remove one of the two declarations',
    );
  });

  it('sharedByAllTenants on an entity that has a scope', () => {
    const policy = fixturePolicyWith(({ sharedByAllTenants }) => sharedByAllTenants(Payment));
    expect(declarationError(policy, withoutNote)).toBe(
      'sharedByAllTenants(Payment): Payment has a scope, so it is not shared; remove one of the two declarations',
    );
  });

  it('a grant on a class that is not an entity', () => {
    const policy = fixturePolicyWith(({ grant }) => grant(NotAnEntity, 'tenant'));
    expect(declarationError(policy, withoutNote)).toBe(
      'grant to tenant: NotAnEntity is not an entity of this gateway',
    );
  });

  it('a grant on an entity this gateway does not serve', () => {
    const policy = fixturePolicyWith(({ grant }) => grant(Note, 'tenant'));
    expect(declarationError(policy, withoutNote)).toBe(
      'grant to tenant: Note is not an entity of this gateway',
    );
  });

  it('restricted fields that are not columns, a key, or restricted twice', () => {
    const restricting = (fields: string[], twice = false) =>
      fixturePolicyWith(({ restrictFields }) => {
        restrictFields(Invoice, fields as never, 'auditor');
        // Totals are the auditors' again.
        if (twice) restrictFields(Invoice, ['total'], 'owner');
      });
    expect(declarationError(restricting(['payments']), withoutNote)).toBe(
      "restrictFields(Invoice, 'payments'): payments is not a column of Invoice (id, total, archived)",
    );
    expect(declarationError(restricting(['totl']), withoutNote)).toMatch(
      /^restrictFields\(Invoice, 'totl'\): totl is not a column/,
    );
    expect(declarationError(restricting(['id']), withoutNote)).toBe(
      "restrictFields(Invoice, 'id'): id is Invoice's key, which every reader uses",
    );
    expect(declarationError(restricting(['total'], true), withoutNote)).toBe(
      `restrictFields(Invoice, 'total'): total is already restricted ("Invoice.total readable by auditor only")`,
    );
    const notAnEntity = fixturePolicyWith(({ restrictFields }) => restrictFields(NotAnEntity, ['id'], 'x'));
    expect(declarationError(notAnEntity, withoutNote)).toBe(
      'restrictFields(id): NotAnEntity is not an entity of this gateway',
    );
  });

  it('aggregates withheld from no entity, no role, a misspelt role, the superuser, or twice', () => {
    const refused = (more: Parameters<typeof fixturePolicyWith>[0]) =>
      declarationError(fixturePolicyWith(more), withoutNote);
    expect(refused(({ noAggregates }) => noAggregates(NotAnEntity, 'tenant'))).toBe(
      'noAggregates(tenant): NotAnEntity is not an entity of this gateway',
    );
    expect(refused(({ noAggregates }) => noAggregates(Invoice, []))).toBe(
      'noAggregates(Invoice, []): names no role; name the roles that may not aggregate',
    );
    expect(refused(({ noAggregates }) => noAggregates(Invoice, ['auditor', 'tenat']))).toBe(
      "noAggregates(Invoice, ['auditor', 'tenat']): no other declaration names the role tenat, so it reads nothing (roles: auditor, owner, public, tenant); check its spelling",
    );
    expect(refused(({ noAggregates }) => noAggregates(Invoice, 'sa'))).toBe(
      "noAggregates(Invoice, 'sa'): sa is the superuser, whom no rule refuses; remove it",
    );
    expect(
      refused(({ noAggregates }) => {
        noAggregates(Invoice, 'tenant', { name: 'Tenants count no invoices' });
        noAggregates(Invoice, 'owner');
      }),
    ).toBe(
      `noAggregates(Invoice, 'owner'): Invoice already withholds aggregates ("Tenants count no invoices"); name every role in that one declaration`,
    );
  });

  it('a global filter whose database policy would take a name grantgate uses for another rule', () => {
    const policy = fixturePolicyWith(({ globalFilter }) =>
      globalFilter('may_read', () => ({ archived: false }), { rolesNotFiltered: [] }),
    );
    expect(declarationError(policy, withoutNote)).toMatch(
      /^global filter "may_read": its database policy would be named grantgate_may_read, which grantgate uses for another rule/,
    );
  });
});

describe('labels name one rule each', () => {
  it('two filtering rules with one label and different conditions stop compilation, naming both', () => {
    const policy = fixturePolicyWith(({ grant }) => {
      grant(Account, 'auditor', {
        filter: (user) => ({ clientId: user.clientId as number }),
        name: 'Same words',
      });
      grant(Invoice, 'auditor', { filter: () => ({ archived: false }), name: 'Same words' });
    });
    expect(declarationError(policy, withoutNote)).toBe(
      'grant Account to auditor and grant Invoice to auditor are both labelled "Same words" but filter differently: give one its own intent comment or name',
    );
  });

  it('one condition granted to two roles under one label is one rule, and compiles', () => {
    const policy = fixturePolicyWith(({ grant }) => {
      grant(Invoice, 'auditor', { filter: () => ({ archived: false }), name: 'Current invoices' });
      grant(Invoice, 'clerk', { filter: () => ({ archived: false }), name: 'Current invoices' });
    });
    expect(() => compileSecurityModel(policy, withoutNote)).not.toThrow();
  });

  it('two global filters under one label, or on one attribute, stop compilation', () => {
    const sameLabel = fixturePolicyWith(({ globalFilter }) => {
      globalFilter('archived', () => ({ archived: false }), { rolesNotFiltered: ['sa'], name: 'Same words' });
      globalFilter('archived', () => ({ archived: false }), { rolesNotFiltered: ['x'], name: 'Same words' });
    });
    expect(declarationError(sameLabel, withoutNote)).toBe(
      'two global filters are labelled "Same words": give each its own intent comment or name',
    );
    const sameAttribute = fixturePolicyWith(({ globalFilter }) => {
      globalFilter('archived', () => ({ archived: false }), { rolesNotFiltered: ['sa'], name: 'One' });
      globalFilter('archived', () => ({ total: { $gt: 0 } }), { rolesNotFiltered: ['sa'], name: 'Two' });
    });
    expect(declarationError(sameAttribute, withoutNote)).toBe(
      'two global filters constrain "archived": declare one, whose condition says all of it',
    );
  });
});

describe('the compiled policy answers for names every object has', () => {
  it('a field or an attribute named like an inherited property is an ordinary unrestricted name', () => {
    const model = compileSecurityModel(
      fixturePolicyWith(({ restrictFields }) => restrictFields(Invoice, ['total'], 'auditor')),
      withoutNote,
    );
    const clerk = { id: 'c', roles: ['clerk'], attributes: { constructor: 1 } };
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(model.mayUseField(clerk, 'Invoice', name)).toBe(true);
      expect(model.fieldRolesOf('Invoice', name)).toBeUndefined();
      expect(model.userValue(clerk, name)).toBe(name === 'constructor' ? 1 : undefined);
    }
    expect(model.mayUseField(clerk, 'Invoice', 'total')).toBe(false);
  });
});

describe('a correct policy', () => {
  it('reports how the tenant filter covers each entity: column, scope or shared', () => {
    const model = compileSecurityModel(fixturePolicy, withoutNote);
    expect(Object.fromEntries(model.coverage)).toEqual({
      Account: 'column',
      Country: 'shared',
      Invoice: 'scope',
      Payment: 'scope',
    });
    expect(model.scopeOf('Invoice')).toEqual({
      label: 'scope of Invoice through account',
      through: 'account',
      parent: 'Account',
      foreignKey: 'account_id',
      parentKey: 'id',
    });
    expect(model.scopeOf('Payment')).toEqual({
      label: 'scope of Payment through invoice',
      through: 'invoice',
      parent: 'Invoice',
      foreignKey: 'invoice_id',
      parentKey: 'id',
    });
    expect(model.scopeOf('Account')).toBeUndefined();
  });

  it('covers an entity added later once it is declared shared', () => {
    const model = compileSecurityModel(
      fixturePolicyWith(({ sharedByAllTenants }) => sharedByAllTenants(Note)),
      withNote,
    );
    expect(model.coverage.get('Note')).toBe('shared');
    expect(model.coverage.size).toBe(5);
  });

  it('without a tenant filter needs no coverage', () => {
    const policy = declareSecurity(({ scope }) => scope(Payment, 'invoice'));
    expect(compileSecurityModel(policy, withNote).coverage.size).toBe(0);
  });

  it('gives the database one policy per global filter and table, one per table its filtered grants restrict, and one per scope', () => {
    const plan = compileSecurityModel(fixturePolicy, withoutNote).databasePolicies;
    expect(plan.tables).toEqual(['account', 'invoice', 'payment']);
    expect(plan.unrestrictedTables).toEqual(['country']);
    expect(plan.policies.filter((p) => !p.command).map((p) => `${p.table}.${p.name}`)).toEqual([
      'account.grantgate_clientId',
      'invoice.grantgate_archived',
      'account.grantgate_grants',
      'invoice.grantgate_scope',
      'payment.grantgate_scope',
    ]);
    expect(plan.attributes).toEqual(['accountId', 'clientId']);
    expect(plan.policies.find((p) => p.table === 'payment' && !p.command)!.expression).toBe(
      `(select current_setting('grantgate.superuser', true) = 'on') or exists (select 1 from "invoice" p where p."id" = "payment"."invoice_id")`,
    );
  });
});

describe('rule labels', () => {
  it('name each rule by its name option, else the intent comment above it, else what it declares', () => {
    const policy = declareSecurity((rules) => {
      // Tenants read and write.
      rules.rolePermission('tenant');
      // Owners see their own account,
      // and nobody else.
      rules.grant(Account, 'owner', { filter: (user) => ({ id: user.accountId as number }) });
      rules.grant(Account, 'owner', { filter: () => ({ name: 'x' }), name: 'named grant' });
      rules.globalFilter('archived', () => ({ archived: false }), { rolesNotFiltered: [] });

      rules.scope(Invoice, 'account');
      rules.noAggregates(Invoice, ['tenant', 'owner']);
    });
    expect(policy.rolePermissions.map((rule) => rule.label)).toEqual(['Tenants read and write.']);
    expect(policy.grants.map((rule) => rule.label)).toEqual([
      'Owners see their own account, and nobody else.',
      'named grant',
    ]);
    expect(policy.globalFilters.map((rule) => rule.label)).toEqual(['global filter "archived"']);
    expect(policy.scopes.map((rule) => rule.label)).toEqual(['scope of Invoice through account']);
    expect(policy.aggregateRules.map((rule) => rule.label)).toEqual([
      'no aggregates of Invoice by tenant, owner',
    ]);
  });
});

describe('the rule behind a database policy', () => {
  it('is the scope for the scope policy and the global filter for its policy, as a refused write reports it', () => {
    const model = compileSecurityModel(fixturePolicy, withoutNote);
    expect(model.databasePolicyLabel('Invoice', 'grantgate_scope')).toBe('scope of Invoice through account');
    expect(model.databasePolicyLabel('Invoice', 'grantgate_archived')).toBe('global filter "archived"');
    expect(model.databasePolicyLabel('Account', 'grantgate_clientId')).toBe('tenant filter "clientId"');
    expect(model.databasePolicyLabel('Country', 'grantgate_scope')).toBeUndefined();
  });

  it('gives each verb, per entity, to the roles that have it alone; restricted fields to their roles', () => {
    const policy = fixturePolicyWith(({ restrictFields, grant }) => {
      // Only auditors read and write totals.
      restrictFields(Invoice, ['total'], ['auditor', 'sa']);
      // Editors write countries.
      grant(Country, 'editor', { verbs: { delete: false } });
    });
    const model = compileSecurityModel(policy, withoutNote);
    expect(model.rolesWith('Invoice', 'read')).toEqual(['auditor', 'owner', 'public', 'tenant']);
    expect(model.rolesWith('Invoice', 'delete')).toEqual([]);
    expect(model.rolesWith('Country', 'insert')).toEqual(['editor']);
    expect(model.rolesWith('Country', 'read')).toEqual(['auditor', 'editor', 'owner', 'public', 'tenant']);
    expect(model.databasePolicies.fieldWrites).toEqual([
      { table: 'invoice', columns: [{ column: 'total', roles: ['auditor'] }] },
    ]);
    expect(model.fieldDenial('Invoice', 'total')).toBe('Only auditors read and write totals.');
  });
});

describe('aggregates withheld from a role', () => {
  const policy = fixturePolicyWith(({ noAggregates, grant }) => {
    // Tenants list their invoices but compute no statistics over them.
    noAggregates(Invoice, 'tenant');
    // Clerks file invoices without reading them.
    grant(Invoice, 'clerk', { verbs: { read: false } });
  });
  const model = compileSecurityModel(policy, withoutNote);
  const label = 'Tenants list their invoices but compute no statistics over them.';
  const holding = (...roles: string[]) => ({ id: 'u', roles, attributes: { clientId: 1 } });

  it('compiles into the entity and into the view of each role that reads it', () => {
    const invoice = model.compiled.entities.Invoice!;
    expect(invoice.noAggregates).toEqual({ label, roles: ['tenant'] });
    expect(invoice.roles.tenant!.noAggregates).toBe(label);
    expect(invoice.roles.auditor!.noAggregates).toBeUndefined();
    // Clerks read nothing of it: the verb, not this rule, is what keeps them from aggregating.
    expect(invoice.roles.clerk!.noAggregates).toBeUndefined();
    expect(model.compiled.entities.Account!.noAggregates).toBeUndefined();
  });

  it('is a union like the verbs: one reading role that may aggregate is enough', () => {
    expect(model.mayAggregate(holding('tenant'), 'Invoice')).toBe(false);
    expect(model.mayAggregate(holding('tenant'), 'Account')).toBe(true);
    expect(model.mayAggregate(holding('auditor'), 'Invoice')).toBe(true);
    expect(model.mayAggregate(holding('tenant', 'auditor'), 'Invoice')).toBe(true);
    // A role that does not read the entity does not lift the rule.
    expect(model.mayAggregate(holding('tenant', 'clerk'), 'Invoice')).toBe(false);
    expect(model.aggregateDenial(holding('tenant', 'clerk'), 'Invoice')).toBe(label);
    // A user who reads nothing of it may not aggregate it, for want of the verb.
    expect(model.mayAggregate(holding('clerk'), 'Invoice')).toBe(false);
    expect(model.aggregateDenial(holding('clerk'), 'Invoice')).toBeUndefined();
  });

  it('never withholds aggregates from the superuser, whatever other roles it holds', () => {
    for (const user of [holding('sa'), holding('sa', 'tenant')]) {
      expect(model.mayAggregate(user, 'Invoice')).toBe(true);
      expect(model.aggregateDenial(user, 'Invoice')).toBeUndefined();
    }
  });

  it('is refused FORBIDDEN naming the rule, after the read it needs', () => {
    const refusal = (roles: string[]) => {
      try {
        new RequestSecurity(model, { ...holding(...roles), id: 't1' }).authorizeAggregate('Invoice');
      } catch (error) {
        expect(error).toBeInstanceOf(GraphQLError);
        return { message: (error as GraphQLError).message, ...(error as GraphQLError).extensions };
      }
      return undefined;
    };
    expect(refusal(['tenant'])).toEqual({
      message: 'User t1 with roles [tenant] does not have aggregate access on entity: Invoice',
      code: 'FORBIDDEN',
      rule: label,
    });
    expect(refusal(['clerk'])).toEqual({
      message: 'User t1 with roles [clerk] does not have read access on entity: Invoice',
      code: 'FORBIDDEN',
      rule: 'Clerks file invoices without reading them.',
    });
    expect(refusal(['tenant', 'auditor'])).toBeUndefined();
    expect(refusal(['sa'])).toBeUndefined();
  });

  it('is among the rules that apply to a user it withholds aggregates from', () => {
    expect(model.rulesFor(holding('tenant'), 'Invoice')).toContainEqual({ kind: 'no aggregates', label });
    expect(model.rulesFor(holding('tenant', 'auditor'), 'Invoice').map((rule) => rule.kind)).not.toContain(
      'no aggregates',
    );
  });
});
