import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { FIXTURE_DOMAIN } from './fixture-domain.js';

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The arguments (after node) that run one of the project's scripts as `npm run` does: through tsx,
 * with the project's tsconfig (tsx looks for it in the working directory, not always the project's).
 */
export const projectScript = (script: string) => [
  join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
  '--tsconfig',
  join(ROOT, 'tsconfig.json'),
  join(ROOT, script),
];

/**
 * The arguments (after node) that run the gateway of the checkout at `root` as `npm start` does: one
 * process, tsx as a loader (tsx's launcher would be a parent that relays signals and kills a gateway
 * slow to acknowledge one); and its environment: tsx reads the tsconfig named by TSX_TSCONFIG_PATH
 * when the working directory is not the checkout's. `root` is this checkout unless told (another:
 * `npm run bench:request-cpu -- --against`).
 */
export const gatewayTsconfig = (root = ROOT) => ({ TSX_TSCONFIG_PATH: join(root, 'tsconfig.json') });
export const gatewayEntry = (root = ROOT) => [
  '--import',
  import.meta.resolve('tsx/esm'),
  join(root, 'src/main.ts'),
];

/** What a CLI of the project printed, and its exit code. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one of the project's CLIs (`src/tools/cli/import-schema.ts`) as `npm run` does, on `databaseUrl` (the migration URL unset, so it is the one used), with
 * `env` added (DOMAIN, FIXTURE_DOMAIN unless told), from `cwd` (the project root unless told).
 */
export function runProjectCli(
  script: string,
  args: string[],
  options: { databaseUrl: string; env?: Record<string, string>; cwd?: string },
): Promise<CliRun> {
  return new Promise((done) => {
    const child = execFile(
      process.execPath,
      [...projectScript(script), ...args],
      {
        cwd: options.cwd ?? ROOT,
        env: {
          ...process.env,
          DATABASE_URL: options.databaseUrl,
          MIGRATION_DATABASE_URL: '',
          DOMAIN: FIXTURE_DOMAIN,
          ...options.env,
        },
        timeout: 120_000,
      },
      (_error, stdout, stderr) => done({ code: child.exitCode, stdout, stderr }),
    );
  });
}
