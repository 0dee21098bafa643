import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ListShippersDocument, UpdateShipperDocument } from '../../demo/northwind/__generated__/graphql.js';
import { startTestGateway, type TestGateway } from '../helpers/test-gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t?.close());

describe('the request transaction', () => {
  it('frames a query with a read-only transaction, one settings statement and commit', async () => {
    const result = await t.executeCountingSql(ListShippersDocument, { limit: 1 });
    expect(result.errors).toBeUndefined();
    expect(result.statements.length).toBeGreaterThan(0);
    expect(result.framing).toEqual([
      'start transaction read only',
      expect.stringMatching(/^select set_config\(/),
      'commit',
    ]);
  });

  it('frames a mutation with begin, one settings statement and commit', async () => {
    const before = await t.db.sql.query('select company_name from shipper where id = 1');
    const result = await t.executeCountingSql(UpdateShipperDocument, {
      id: '1',
      input: { companyName: before.rows[0].company_name },
    });
    expect(result.errors).toBeUndefined();
    expect(result.framing).toEqual(['begin', expect.stringMatching(/^select set_config\(/), 'commit']);
  });

  it('reports a commit that fails after the mutation itself succeeded, and keeps nothing of it', async () => {
    // A deferred constraint is checked at COMMIT, after every resolver has returned successfully.
    await t.db.sql.query(`
      create function refuse_at_commit() returns trigger language plpgsql as
        $$ begin raise exception 'refused at commit'; end $$;
      create constraint trigger refuse_at_commit after update on shipper
        deferrable initially deferred for each row execute function refuse_at_commit();`);
    try {
      const before = await t.db.sql.query('select * from shipper order by id');
      const result = await t.execute(UpdateShipperDocument, {
        id: '1',
        input: { companyName: 'Never Saved' },
      });
      expect(result.data).toBeNull();
      expect(result.errors).toEqual([
        {
          message: 'The changes could not be saved. Try again.',
          extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: expect.any(String) },
        },
      ]);
      expect((await t.db.sql.query('select * from shipper order by id')).rows).toEqual(before.rows);
    } finally {
      await t.db.sql.query('drop trigger refuse_at_commit on shipper; drop function refuse_at_commit()');
    }
  });
});
