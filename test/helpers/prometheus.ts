import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';

const PROMETHEUS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find(existsSync);
const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find(existsSync);

/** `promtool check metrics` on an exposition: its exit code and what it printed. */
export function promtoolCheckMetrics(exposition: string): { status: number | null; output: string } {
  if (!PROMTOOL)
    throw new Error('promtool is not installed: `apt-get install prometheus` (npm test installs it)');
  const run = spawnSync(PROMTOOL, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * Debian's Prometheus (`npm test`'s pretest installs it) on a free loopback port, scraping `target`
 * (host:port, path /metrics) every second, its data in a folder of its own.
 */
export async function startPrometheus(target: string): Promise<{ url: string; stop(): Promise<void> }> {
  if (!PROMETHEUS)
    throw new Error('prometheus is not installed: `apt-get install prometheus` (npm test installs it)');
  const dir = await mkdtemp(join(tmpdir(), 'grantgate-prometheus-'));
  const port = await findFreePort();
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: grantgate\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    if (attempt > 100 || child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus did not start: ${stderr.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
