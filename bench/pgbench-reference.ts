import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A statement as the gateway sent it: its text with `$n` placeholders, and their values. */
export interface SentStatement {
  sql: string;
  params: readonly unknown[];
}

/** `value` as a literal of the script: untyped text, as the driver sends a parameter. */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'number' || typeof value === 'boolean') return `'${String(value)}'`;
  throw new Error(`pgbench reference: a parameter of type ${typeof value} has no literal here`);
}

/** A statement with its values written in place of its placeholders (none of ours holds a `$` else). */
const written = ({ sql, params }: SentStatement) =>
  sql.replace(/\$(\d+)/g, (_, n: string) => literal(params[Number(n) - 1]));

/**
 * Transactions per second of pgbench running `statements` — a request's, its transaction's framing
 * and settings included — over `connections` connections for `seconds`: prepared, and sent in one
 * pipeline per request as the gateway sends them (src/db/preparing-client.ts). What PostgreSQL alone
 * does of the request, the reference `npm run bench` sets the gateway's req/s against.
 */
export async function pgbenchRate(
  databaseUrl: string,
  statements: readonly SentStatement[],
  options: { connections: number; seconds: number },
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'grantgate-pgbench-'));
  try {
    const script = join(dir, 'request.sql');
    await writeFile(
      script,
      ['\\startpipeline', ...statements.map(written).map((sql) => `${sql};`), '\\endpipeline', ''].join('\n'),
    );
    const { stdout } = await promisify(execFile)('pgbench', [
      '--no-vacuum',
      '--protocol=prepared',
      `--client=${options.connections}`,
      '--jobs=2',
      `--time=${options.seconds}`,
      `--file=${script}`,
      databaseUrl,
    ]);
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    if (!tps) throw new Error(`pgbench reference: no rate in its output:\n${stdout}`);
    return Number(tps[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
