import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainUser } from '../../src/explain/explain-user.js';
import { type FixtureDatabase, openFixtureDatabase, READERS } from './fixtures.js';

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
});
