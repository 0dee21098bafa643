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

/**
 * The script's text of a statement and the pgbench variables (`-D`) its values become: pgbench sends a
 * variable as a bind parameter in prepared mode, so PostgreSQL plans the statement as it plans the
 * gateway's (values written into the text would be planned as constants, another plan).
 */
function scripted(statement: SentStatement, index: number): { text: string; variables: string[] } {
  const variables: string[] = [];
  const text = statement.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = statement.params[Number(n) - 1];
    if (value === null || value === undefined) return 'null';
    // pgbench refuses an empty variable (`-D name=`); an empty text is the same value as a literal.
    if (value === '') return "''";
    if (!['string', 'number', 'boolean'].includes(typeof value))
      throw new Error(`pgbench reference: a parameter of type ${typeof value} cannot be a pgbench variable`);
    const name = `s${index}p${n}`;
    variables.push(`${name}=${String(value as string | number | boolean)}`);
    return `:${name}`;
  });
  return { text, variables };
}

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
    const parts = statements.map(scripted);
    await writeFile(
      script,
      ['\\startpipeline', ...parts.map(({ text }) => `${text};`), '\\endpipeline', ''].join('\n'),
    );
    const { stdout } = await promisify(execFile)('pgbench', [
      '--no-vacuum',
      '--protocol=prepared',
      `--client=${options.connections}`,
      '--jobs=2',
      `--time=${options.seconds}`,
      `--file=${script}`,
      ...parts.flatMap(({ variables }) => variables.map((variable) => `--define=${variable}`)),
      databaseUrl,
    ]);
    const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout);
    if (!tps) throw new Error(`pgbench reference: no rate in its output:\n${stdout}`);
    return Number(tps[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
