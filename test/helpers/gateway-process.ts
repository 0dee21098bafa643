import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { FIXTURE_DOMAIN } from './fixture-domain.js';
import { gatewayEntry, gatewayTsconfig } from './project-cli.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface GatewayProcess {
  /** The gateway's process (node with tsx's loader, nothing in between), or npm's with `viaNpm`. */
  pid: number | undefined;
  /** The GraphQL endpoint, once the process printed that it is ready. */
  url: Promise<string>;
  exited: Promise<number | null>;
  output: () => string;
  /** Resolves when the output matches `pattern` (e.g. a log line the test waits for). */
  waitForOutput(pattern: RegExp): Promise<void>;
  stop(): Promise<number | null>;
}

/**
 * Runs `npm start`'s entry point as a separate process, the way a user does, on FIXTURE_DOMAIN unless
 * told; `viaNpm`: `npm start` itself (a signal then goes to npm, which passes it on); `root`: the
 * checkout whose gateway runs (this one unless told); `under`: a command line, ending in node
 * and its flags, that runs the gateway's entry point (valgrind's, for `npm run bench:request-cpu --
 * --meter instructions`).
 */
export function startGatewayProcess(
  env: Record<string, string>,
  cwd = ROOT,
  options: { viaNpm?: boolean; root?: string; under?: string[] } = {},
): GatewayProcess {
  const [command, args] = options.viaNpm
    ? ['npm', ['start']]
    : options.under
      ? [options.under[0]!, [...options.under.slice(1), ...gatewayEntry(options.root)]]
      : [process.execPath, gatewayEntry(options.root)];
  const child = spawn(command, args, {
    cwd,
    env: {
      ...process.env,
      ...gatewayTsconfig(options.root),
      DATABASE_URL: '',
      PORT: '0',
      LOG_LEVEL: 'info',
      DOMAIN: FIXTURE_DOMAIN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const watchers = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk;
    for (const watcher of watchers) watcher();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  const waitForOutput = (pattern: RegExp) =>
    new Promise<void>((found, failed) => {
      const check = () => {
        if (!pattern.test(output)) return;
        watchers.delete(check);
        found();
      };
      watchers.add(check);
      check();
      void exited.then((code) =>
        failed(new Error(`exited with ${code} before printing ${pattern}:\n${output}`)),
      );
    });
  const url = waitForOutput(/grantgate is ready at (\S+)/).then(
    () => output.match(/grantgate is ready at (\S+)/)![1]!,
  );
  // Tests that expect an early exit never await the URL.
  url.catch(() => {});
  return {
    pid: child.pid,
    url,
    exited,
    output: () => output,
    waitForOutput,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface GraphQLResponse {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs one GraphQL operation, as a browser front-end would. */
export async function postGraphQL(
  url: string,
  query: string,
  options: { variables?: Record<string, unknown>; token?: string } = {},
): Promise<GraphQLResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    body: JSON.stringify({ query, variables: options.variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, 'status'>) };
}

export const LOGIN = `mutation Login($username: String!, $password: String!) {
  login(username: $username, password: $password) { accessToken refreshToken }
}`;

/** Logs in a user (a demo user's password "p" unless told) and returns its tokens. */
export async function loginAs(
  url: string,
  username: string,
  password = 'p',
): Promise<{ accessToken: string; refreshToken: string }> {
  const result = await postGraphQL(url, LOGIN, { variables: { username, password } });
  if (!result.data?.login) throw new Error(`login as ${username} failed: ${JSON.stringify(result.errors)}`);
  return result.data.login as { accessToken: string; refreshToken: string };
}
