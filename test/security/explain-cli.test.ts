import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database.js';
import { runProjectCli } from '../helpers/project-cli.js';

/** `npm run security:explain` as a person or a CI script runs it, on a copy of the test database. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const explain = (...args: string[]) =>
  runProjectCli('src/explain/cli/security-explain.ts', args, {
    databaseUrl: db.url,
    env: { NODE_ENV: 'development', JWT_SECRET: 'a test secret that is at least 32 bytes long' },
  });

describe('npm run security:explain', () => {
  it('--json prints exactly one object: the user and, per entity, verbs, rows, rules and predicate', async () => {
    const { code, stdout } = await explain(
      '--user',
      's1',
      '--entity',
      'Customer',
      '--entity',
      'Employee',
      '--json',
    );
    expect(code).toBe(0);
    const explanation = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(explanation)).toEqual(['user', 'entities']);
    expect(explanation).toMatchObject({
      user: 's1',
      entities: {
        Customer: {
          verbs: { read: true, create: true, update: true, delete: true },
          rows: expect.any(Number),
          predicate: expect.stringContaining('"client_id" = 2'),
        },
        Employee: { verbs: { read: true, delete: false }, aggregate: false },
      },
    });
    expect((explanation.entities as Record<string, { rules: unknown[] }>).Employee!.rules).toContainEqual({
      kind: 'no aggregates',
      label: 'Sales people may read the staff list but not compute statistics over it.',
    });
    expect(Object.keys(explanation.entities as object)).toEqual(['Customer', 'Employee']);
  });

  it('explains a hypothetical user from --roles and --attr, and compares two users in the terminal', async () => {
    const hypothetical = await explain(
      '--user',
      'nobody',
      '--roles',
      'dev',
      '--entity',
      'Category',
      '--json',
    );
    expect(JSON.parse(hypothetical.stdout)).toEqual({
      user: 'nobody',
      entities: {
        Category: expect.objectContaining({
          verbs: { read: false, create: false, update: false, delete: false },
        }),
      },
    });
    expect(JSON.parse(hypothetical.stdout).entities.Category).not.toHaveProperty('rows');
    const compared = await explain(
      '--user',
      's1',
      '--compare',
      'u1',
      '--entity',
      'Customer',
      '--entity',
      'Employee',
    );
    expect(compared.code).toBe(0);
    expect(compared.stdout).toMatch(/^User s1 — roles: sales/);
    expect(compared.stdout).toContain('Compared with u1 — roles: tenant');
    expect(compared.stdout).toContain('Sales people see customers with a credit limit over 300 ...');
    // Sales people read the staff list but may not aggregate it; tenants may.
    const employee = compared.stdout.slice(compared.stdout.indexOf('\nEmployee\n'));
    expect(employee).toContain('  s1:\n    read ✓  create ✗  update ✗  delete ✗  aggregate ✗   ');
    expect(employee).toContain('  u1:\n    read ✓  create ✗  update ✗  delete ✗  aggregate ✓   ');
    expect(employee).toContain(
      '      no aggregates    Sales people may read the staff list but not compute statistics over it.',
    );
  });

  it('says so, in one line and with exit code 1, for a user the auth provider does not know', async () => {
    const { code, stderr } = await explain('--user', 'no-such-user');
    expect(code).toBe(1);
    expect(stderr.trim()).toMatch(/^no-such-user: the auth provider \(sql\) does not know this user/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });
});
