import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { runProjectCli } from '../helpers/project-cli.js';

/** A port nothing listens on: the kernel just handed it out and took it back. */
let closedPortUrl: string;
beforeAll(async () => {
  closedPortUrl = `postgres://postgres:secret@127.0.0.1:${await findFreePort()}/grantgate`;
});

/** A server that accepts connections and never answers: a stuck proxy, a half-open firewall. */
let silent: Server;
let silentUrl: string;
const accepted = new Set<Socket>();
beforeAll(async () => {
  silent = createServer((socket) => accepted.add(socket));
  await new Promise<void>((listening) => silent.listen(0, '127.0.0.1', listening));
  const address = silent.address();
  silentUrl = `postgres://postgres:secret@127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/grantgate`;
});
afterAll(async () => {
  for (const socket of accepted) socket.destroy();
  await new Promise((closed) => silent.close(closed));
});

async function runCli(url: string, script: string, ...args: string[]) {
  const { code, stdout, stderr } = await runProjectCli(script, args, { databaseUrl: url });
  return { code, output: stdout + stderr };
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
    ['src/tools/cli/migrate.ts'],
    ['src/tools/cli/security-check.ts'],
    ['src/tools/cli/seed.ts'],
    ['src/tools/cli/auth-users.ts', 'user', 'list'],
  ])('is one line and exit code 1 from %s', async (script, ...args) => {
    const { code, output } = await runCli(closedPortUrl, script, ...args);
    expect(output).toBe(
      `cannot reach the database at 127.0.0.1:${new URL(closedPortUrl).port}: ECONNREFUSED\n`,
    );
    expect(code).toBe(1);
  });

  it('that never answers is one line once the connection timeout passes, from npm start and a CLI', async () => {
    const port = new URL(silentUrl).port;
    const started = startGatewayProcess({
      DATABASE_URL: silentUrl,
      DB_POOL_TIMEOUT: '1s',
      LOG_LEVEL: 'fatal',
    });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain(
      `"msg":"could not start: cannot reach the database at 127.0.0.1:${port}: no answer within the connection timeout"}`,
    );
    expect(started.output()).not.toMatch(/\n\s+at /);

    const { code, output } = await runCli(silentUrl, 'src/tools/cli/migrate.ts');
    expect(output).toBe(
      `cannot reach the database at 127.0.0.1:${port}: no answer within the connection timeout\n`,
    );
    expect(code).toBe(1);
  });
});
