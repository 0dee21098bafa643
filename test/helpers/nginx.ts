import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';

const NGINX = ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find(existsSync);

/**
 * Debian's nginx (`npm test`'s pretest installs it) on a free loopback port, in front of `upstreams`
 * as the README's "Running in production" configures it: HTTP/1.1 kept alive to the replicas, an idle
 * upstream connection kept for less than the replicas' SHUTDOWN_GRACE, a request that cannot reach
 * one replica passed to the next. Responses name the replica that answered (`x-upstream`).
 */
export async function startNginx(
  upstreams: string[],
): Promise<{ url: string; errors(): Promise<string>; stop(): Promise<void> }> {
  if (!NGINX) throw new Error('nginx is not installed: `apt-get install nginx-light` (npm test installs it)');
  const dir = await mkdtemp(join(tmpdir(), 'grantgate-nginx-'));
  const port = await findFreePort();
  const config = `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
${process.getuid?.() === 0 ? 'user root;' : ''}
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream grantgate {
${upstreams.map((upstream) => `    server ${upstream} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 32;
    keepalive_timeout 1s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://grantgate;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_next_upstream error timeout;
      add_header x-upstream $upstream_addr always;
    }
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), config);
  const child: ChildProcess = spawn(
    NGINX,
    ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGQUIT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(`${url}/healthz`);
      return { url, errors: () => readFile(join(dir, 'error.log'), 'utf8').catch(() => ''), stop };
    } catch (error) {
      if (attempt > 50 || child.exitCode !== null) {
        await stop();
        throw new Error(`nginx did not start: ${stderr}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
