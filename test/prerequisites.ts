/**
 * The first step of `npm test` (its `pretest` script): the programs the tests run that npm cannot
 * bring — OpenLDAP's slapd, redis-server, Debian's chromium, and the fleet's nginx, PgBouncer and
 * Prometheus (test/fleet/). Root on Debian or Ubuntu installs the
 * missing ones with apt-get; anyone else is stopped at once with the one command to run, rather than
 * minutes later by failing tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

interface Program {
  name: string;
  /** Where the tests look for it (test/helpers/slapd.ts, redis-server.ts, nginx.ts, …, test/pages/browser.test.ts). */
  paths: string[];
  packages: string[];
}

const PROGRAMS: Program[] = [
  {
    name: "OpenLDAP's slapd",
    paths: ['/usr/sbin/slapd', '/usr/local/sbin/slapd', '/usr/local/libexec/slapd'],
    packages: ['slapd', 'ldap-utils'],
  },
  {
    name: 'redis-server',
    paths: ['/usr/bin/redis-server', '/usr/local/bin/redis-server'],
    packages: ['redis-server'],
  },
  { name: 'chromium', paths: [process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'], packages: ['chromium'] },
  { name: 'nginx', paths: ['/usr/sbin/nginx', '/usr/local/sbin/nginx'], packages: ['nginx-light'] },
  { name: 'pgbouncer', paths: ['/usr/sbin/pgbouncer', '/usr/local/bin/pgbouncer'], packages: ['pgbouncer'] },
  {
    name: 'prometheus',
    paths: ['/usr/bin/prometheus', '/usr/local/bin/prometheus'],
    packages: ['prometheus'],
  },
];

const missing = () => PROGRAMS.filter((program) => !program.paths.some((path) => existsSync(path)));

const apt = (args: string[]) =>
  spawnSync('apt-get', args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  }).status === 0;

const needed = missing();
if (needed.length > 0) {
  const packages = needed.flatMap((program) => program.packages);
  const names = needed.map((program) => program.name).join(', ');
  const command = `apt-get install -y ${packages.join(' ')}`;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`The tests need ${names}; installing: ${command}`);
    // A machine that never ran apt-get update has no package lists yet.
    if (!apt(['install', '-y', '-q', ...packages]) && apt(['update', '-q'])) {
      apt(['install', '-y', '-q', ...packages]);
    }
  }
  const still = missing();
  if (still.length > 0) {
    console.error(
      `The tests need ${still.map((program) => program.name).join(', ')}: run \`sudo ${command}\` (Debian/Ubuntu), then npm test again.`,
    );
    process.exit(1);
  }
}
