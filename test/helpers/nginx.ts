import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../src/db/embedded/embedded-postgres.js';
import { installedProgram, startDaemon } from './daemon.js';

/**
 * Debian's nginx (`npm test`'s pretest installs it) on a free loopback port, in front of `upstreams`
 * as the README's "Running in production" configures it: HTTP/1.1 kept alive to the replicas, an idle
 * upstream connection kept for less than the replicas' SHUTDOWN_GRACE, a request that cannot reach
 * one replica passed to the next. Responses name the replica that answered (`x-upstream`).
 */
export async function startNginx(
  upstreams: string[],
): Promise<{ url: string; errors(): Promise<string>; stop(): Promise<void> }> {
  const program = installedProgram(['/usr/sbin/nginx', '/usr/local/sbin/nginx'], 'nginx-light');
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
  const url = `http://127.0.0.1:${port}`;
  const errors = () => readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
  const { stop } = await startDaemon({
    name: 'nginx',
    program,
    args: ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')],
    dir,
    // Graceful: the requests it is passing on are answered first.
    stopSignal: 'SIGQUIT',
    stderr: true,
    ready: async () => Boolean(await fetch(`${url}/healthz`)),
  });
  return { url, errors, stop };
}
