import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** `npm test`'s pretest step (test/prerequisites.ts), run as a process. */
const run = (env: NodeJS.ProcessEnv, asRoot: boolean) => {
  const command = [process.execPath, 'node_modules/tsx/dist/cli.mjs', 'test/prerequisites.ts'];
  // Without root it may not install anything: run it as `nobody` when the tests run as root.
  const asUser = !asRoot && process.getuid?.() === 0 ? ['runuser', '-u', 'nobody', '--'] : [];
  const [program, ...args] = [...asUser, ...command];
  return spawnSync(program!, args, { env: { ...process.env, HOME: '/tmp', ...env }, encoding: 'utf8' });
};

describe('the programs the tests need', () => {
  it('says nothing and goes on when they are all there', () => {
    const result = run({}, true);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('stops at once with the one command to run when one is missing and it may not install', () => {
    const result = run({ CHROMIUM_PATH: '/nonexistent/chromium' }, false);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      'The tests need chromium: run `sudo apt-get install -y chromium` (Debian/Ubuntu), then npm test again.',
    );
  });
});
