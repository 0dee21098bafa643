import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded/embedded-postgres.js';
import { databaseUrl } from '../helpers/database-url.js';
import { FIXTURE_DOMAIN } from '../helpers/fixture-domain.js';
import { type CliRun, projectScript, runProjectCli } from '../helpers/project-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Runs a command the way a shell does and reports how it exited. The child gets no VITEST_*
 * variables, so a vitest inside it runs as if started by hand, and no database URL unless given.
 */
function run(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<CliRun> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('VITEST') && !['TEST_DATABASE_URL', 'DATABASE_URL'].includes(name),
    ),
  );
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      args,
      { cwd: options.cwd, env: { ...env, ...options.env }, timeout: 120_000 },
      (_error, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }),
    );
  });
}

const runFailingSuite = (env: Record<string, string>) =>
  run(
    [
      join(ROOT, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--config',
      'test/fixtures/failing-suite/vitest.config.ts',
    ],
    { cwd: ROOT, env },
  );

const runCli = (script: string, cwd: string) =>
  run(projectScript(script), {
    cwd,
    env: { DATABASE_URL: '', MIGRATION_DATABASE_URL: '', DOMAIN: FIXTURE_DOMAIN },
  });

describe('a failing test run exits non-zero', () => {
  it('on the embedded PostgreSQL', async () => {
    const result = await runFailingSuite({});
    expect(result.stdout).toMatch(/0 passed, 1 failed, 0 skipped/);
    expect(result.code).toBe(1);
    // What embedded-postgres's exit hook printed when it ran.
    expect(result.stderr).not.toMatch(/TypeError/);
  }, 120_000);

  it('on a configured PostgreSQL', async () => {
    const result = await runFailingSuite({ TEST_DATABASE_URL: inject('serverUrl') });
    expect(result.stdout).toMatch(/0 passed, 1 failed, 0 skipped/);
    expect(result.code).toBe(1);
  }, 120_000);
});

describe('a CLI that fails on the embedded PostgreSQL exits non-zero', () => {
  let home: string | undefined;
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('npm run security:check with policy drift exits 1 and leaves no server running', async () => {
    home = await mkdtemp(join(tmpdir(), 'grantgate-exit-codes-'));
    const migrated = await runCli('src/tools/cli/migrate.ts', home);
    expect(migrated.code).toBe(0);

    // Drift made by hand, on the command's cluster, between two of its runs.
    const embedded = await startEmbeddedPostgres({
      dataDir: join(home, '.data'),
      log: pino({ level: 'silent' }),
      persistent: true,
      holder: 'the test',
    });
    // The database the commands use on the embedded server (src/db/database.ts).
    const client = new pg.Client({ connectionString: databaseUrl(embedded.serverUrl, 'grantgate') });
    await client.connect();
    await client.query('drop policy "grantgate_region" on supplier');
    await client.end();
    await embedded.stop();

    const check = await runCli('src/tools/cli/security-check.ts', home);
    expect(check.stdout).toMatch(/missing: supplier grantgate_region/);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(1);
    // A cleanly stopped PostgreSQL removes its pid file.
    expect(existsSync(join(home, '.data/postgres/postmaster.pid'))).toBe(false);
  }, 120_000);
});

describe('a database CLI on a DOMAIN that holds no domain', () => {
  it.each([
    'src/tools/cli/create-migration.ts',
    'src/tools/cli/security-check.ts',
    'src/tools/cli/migrate.ts',
    'src/tools/cli/create-security-migration.ts',
  ])('%s says so in one line and exits 1, before opening a database', async (script) => {
    const run = await runProjectCli(script, [], {
      databaseUrl: databaseUrl(inject('serverUrl'), 'no_such_database'),
      env: { DOMAIN: 'test/no-such-domain' },
    });
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'DOMAIN: test/no-such-domain/index.ts does not exist\n',
    });
  });
});
