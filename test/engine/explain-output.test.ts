import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explanationText } from '../../src/explain/explain-text.js';
import { explainUser } from '../../src/explain/explain-user.js';
import { compileSecurityModel } from '../../security/system/security-model.js';
import {
  type FixtureDatabase,
  fixturePolicyWith,
  Invoice,
  openFixtureDatabase,
  READERS,
} from './fixtures.js';

/**
 * The JSON of `security:explain` is for scripts and CI, so its shape and wording are pinned: a
 * snapshot on the engine's own fixtures (independent of the demo declarations), and a second run
 * that must give the same bytes.
 */
let f: FixtureDatabase;
beforeAll(async () => {
  f = await openFixtureDatabase();
});
afterAll(() => f?.close());

const explainAll = async () => {
  const context = { orm: f.orm, model: f.model, databaseSecurity: {} };
  const explanations: Record<string, unknown> = {};
  for (const reader of READERS) explanations[reader.label] = await explainUser(context, reader.user);
  return JSON.stringify(explanations, null, 2);
};

describe('security:explain --json on the engine fixtures', () => {
  it('matches the snapshot', async () => {
    await expect(await explainAll()).toMatchFileSnapshot('__snapshots__/explain-output.json');
  });

  it('is stable from one run to the next', async () => {
    expect(await explainAll()).toBe(await explainAll());
  });

  it('leaves out rows for an entity the user may not read, and gives the superuser every row', async () => {
    const context = { orm: f.orm, model: f.model, databaseSecurity: {} };
    const noRoles = await explainUser(context, { id: 'x', roles: ['nobody'], attributes: { clientId: 1 } });
    expect(noRoles.entities.Account).toEqual(
      expect.objectContaining({ verbs: { read: false, create: false, update: false, delete: false } }),
    );
    expect(noRoles.entities.Account).not.toHaveProperty('rows');
    const superuser = await explainUser(context, READERS.find((r) => r.label === 'the superuser')!.user);
    expect(superuser.entities.Payment).toMatchObject({ rows: expect.any(Number), predicate: 'true' });
  });

  it('shows whether the user may aggregate each entity, and the rule that withholds it', async () => {
    const model = compileSecurityModel(
      fixturePolicyWith(({ noAggregates }) => noAggregates(Invoice, 'tenant', { name: 'No invoice totals' })),
      f.orm.getMetadata(),
    );
    const context = { orm: f.orm, model, databaseSecurity: {} };
    const tenant = READERS.find((r) => r.label === 'tenant 1')!.user;
    const auditor = READERS.find((r) => r.label === 'the auditor of tenant 1')!.user;
    const options = { entities: ['Account', 'Invoice'] };
    const explanations = [
      await explainUser(context, tenant, options),
      await explainUser(context, auditor, options),
    ];
    expect(explanations[0]!.entities.Invoice).toMatchObject({ verbs: { read: true }, aggregate: false });
    expect(explanations[0]!.entities.Account!.aggregate).toBe(true);
    expect(explanations[1]!.entities.Invoice!.aggregate).toBe(true);
    const text = explanationText([tenant, auditor], explanations);
    const invoice = text.slice(text.indexOf('\nInvoice\n'));
    expect(invoice).toContain('  t1:\n    read ✓  create ✓  update ✓  delete ✗  aggregate ✗   4 rows');
    expect(invoice).toContain('      no aggregates    No invoice totals');
    expect(invoice).toContain('  aud:\n    read ✓  create ✓  update ✓  delete ✗  aggregate ✓   ');
  });
});
