import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';
import { installedProgram, startDaemon } from './daemon.js';

/** `promtool check metrics` on an exposition: its exit code and what it printed. */
export function promtoolCheckMetrics(exposition: string): { status: number | null; output: string } {
  const promtool = installedProgram(['/usr/bin/promtool', '/usr/local/bin/promtool'], 'prometheus');
  const run = spawnSync(promtool, ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * Debian's Prometheus (`npm test`'s pretest installs it) on a free loopback port, scraping `target`
 * (host:port, path /metrics) every second, its data in a folder of its own.
 */
export async function startPrometheus(target: string): Promise<{ url: string; stop(): Promise<void> }> {
  const program = installedProgram(['/usr/bin/prometheus', '/usr/local/bin/prometheus'], 'prometheus');
  const dir = await mkdtemp(join(tmpdir(), 'grantgate-prometheus-'));
  const port = await findFreePort();
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: grantgate\n    static_configs:\n      - targets: ['${target}']\n`,
  );
  const url = `http://127.0.0.1:${port}`;
  const { stop } = await startDaemon({
    name: 'prometheus',
    program,
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    dir,
    stderr: true,
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
  });
  return { url, stop };
}
