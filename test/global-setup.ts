import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import type { TestProject } from 'vitest/node';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../src/db/embedded/embedded-postgres.js';
import northwind from '../demo/northwind/index.js';
import { assembleGateway } from '../src/assemble.js';
import { databaseUrl } from './helpers/database-url.js';
import { TEST_AUTH_CONFIG } from './helpers/test-gateway.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A URL of the test server's maintenance database (`postgres`). */
    serverUrl: string;
    /** The migrated and seeded database every test database is cloned from. */
    templateDatabase: string;
    /** Prefix of every database this run creates, so teardown can find them all. */
    runPrefix: string;
  }
}

/**
 * Uses the PostgreSQL of TEST_DATABASE_URL or DATABASE_URL (only its server: tests never touch the
 * named database itself), or else starts an embedded one in a temporary folder.
 */
export default async function setup(project: TestProject) {
  const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' });
  const configured = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  let embedded: EmbeddedDatabase | undefined;
  let dataDir: string | undefined;
  let serverUrl: string;
  const runPrefix = `grantgate_test_${randomBytes(4).toString('hex')}`;
  const templateDatabase = `${runPrefix}_template`;

  /** Drops this run's databases and stops and removes the embedded cluster, if there is one. */
  const teardown = async () => {
    if (serverUrl) {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      const { rows } = await client.query<{ datname: string }>(
        'select datname from pg_database where starts_with(datname, $1)',
        [runPrefix],
      );
      for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
      await client.end();
    }
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  };

  try {
    if (configured) {
      serverUrl = databaseUrl(configured, 'postgres');
    } else {
      dataDir = await mkdtemp(join(tmpdir(), 'grantgate-test-'));
      embedded = await startEmbeddedPostgres({ dataDir, log, persistent: false });
      serverUrl = embedded.serverUrl;
    }
    // Migrated and seeded the way `npm start` does it, with the auth schema and the demo users (hashing
    // their passwords is the slow part), so every test database cloned from it starts the same.
    const { gateway } = await assembleGateway({
      domain: northwind,
      databaseUrl: databaseUrl(serverUrl, templateDatabase),
      prepare: { seed: 'demo' },
      log,
      auth: { config: TEST_AUTH_CONFIG, dataDir: dataDir ?? tmpdir() },
    });
    await gateway.stop();
  } catch (error) {
    // A setup that fails leaves no temporary cluster or database behind.
    await teardown().catch(() => undefined);
    throw error;
  }

  project.provide('serverUrl', serverUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('runPrefix', runPrefix);

  return teardown;
}
