import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/db/embedded-postgres.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A port nothing listens on: the kernel just handed it out and took it back. */
let closedPortUrl: string;
beforeAll(async () => {
  closedPortUrl = `postgres://postgres:secret@127.0.0.1:${await findFreePort()}/grantgate`;
});

function runCli(script: string, ...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, script), ...args],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: closedPortUrl, MIGRATION_DATABASE_URL: '' } },
      (_error, stdout, stderr) => done({ code: child.exitCode, output: stdout + stderr }),
    );
  });
}

describe('an unreachable DATABASE_URL', () => {
  it('stops npm start with one line and exit code 1', async () => {
    const started = startGatewayProcess({ DATABASE_URL: closedPortUrl, LOG_LEVEL: 'fatal' });
    expect(await started.exited).toBe(1);
    const port = new URL(closedPortUrl).port;
    expect(started.output().trim()).toMatch(
      new RegExp(
        `^\\{[^\\n]*"msg":"could not start: cannot reach the database at 127\\.0\\.0\\.1:${port}: ECONNREFUSED"\\}$`,
      ),
    );
  });

  it.each([
    ['src/db/cli/migrate.ts'],
    ['src/db/cli/security-check.ts'],
    ['src/db/cli/seed.ts'],
    ['auth-providers/sql/cli.ts', 'user', 'list'],
  ])('is one line and exit code 1 from %s', async (script, ...args) => {
    const { code, output } = await runCli(script, ...args);
    expect(output).toBe(
      `cannot reach the database at 127.0.0.1:${new URL(closedPortUrl).port}: ECONNREFUSED\n`,
    );
    expect(code).toBe(1);
  });
});
