import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type EntityClass, type EntityManager, type MigrationObject } from '@mikro-orm/core';
import { type AuthUser } from '../auth-providers/auth-provider.js';
import { type SecurityPolicy } from '../security/system/policy.js';
import { loadDomainFilesFrom } from './domain-modules.js';

/** Demo rows a domain can bring for `SEED=demo` and `npm run seed`. */
export interface DemoData {
  /** True when the domain's tables hold no rows yet: seeding never writes over data. */
  isEmpty(em: EntityManager): Promise<boolean>;
  /** Writes the data set, `scale` times its reference size, as the tables' owner. */
  write(em: EntityManager, scale: number): Promise<void>;
}

/** Users a domain brings for trying it out, all with DEMO_PASSWORD; created outside production only. */
export interface DemoUsers {
  users: AuthUser[];
  /** The one `npm start` suggests logging in as. */
  loginAs: string;
}

/**
 * What the gateway serves: the entity classes, the security declarations over them, and the
 * migrations of the domain's folder. The Northwind demo is one (demo/northwind/), an imported
 * database another (domain/, written by `npm run db:import`); the engine knows neither.
 */
export interface Domain {
  /** The folder the domain's files live in, relative to the project root. */
  folder: string;
  entities: EntityClass<object>[];
  policy: SecurityPolicy;
  /**
   * The committed migrations, oldest first: the generated policies, and for the demo its tables.
   * An imported domain's tables are the team's: no migration of grantgate creates them.
   */
  migrations: MigrationObject[];
  /** An imported domain brings neither demo data nor demo users: the team's database gets no demo. */
  demoData?: DemoData;
  demoUsers?: DemoUsers;
  /** The query `npm start` suggests trying once logged in. */
  exampleQuery?: string;
}

/** A DOMAIN folder that holds no domain, or cannot be served: one line at start-up, no stack trace. */
export class DomainError extends Error {}

/**
 * Refuses to serve a domain without demo data from the embedded database. Such a domain (an imported
 * one) serves the tables of a team's database, and the embedded one holds only what a domain's
 * migrations and demo data put there: without the refusal, the first query fails with `relation
 * "album" does not exist`.
 */
export function requireDatabaseOf(domain: Domain, databaseUrl: string | undefined): void {
  if (databaseUrl || domain.demoData) return;
  throw new DomainError(
    `DOMAIN ${domain.folder} is imported from a team's database and is served from it: set DATABASE_URL to that database (without it, npm start runs an empty embedded PostgreSQL)`,
  );
}

/** Where `db:migration:create` and `security:migration` write a domain's migrations. */
export const migrationsFolderOf = (domain: Domain) => `${domain.folder}/migrations`;

/** The file a domain's security declarations live in, as errors and reports name it. */
export const declarationsFileOf = (domain: Domain) => `${domain.folder}/declare-security.ts`;

/** The project's root: a relative DOMAIN is found from here, whatever the working directory. */
const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/** The absolute path of a domain's folder as DOMAIN names it. */
export const domainPath = (folder: string) => resolve(PROJECT_ROOT, folder);

/** The default export of `<folder>/index.ts`: `domain/` (DOMAIN) unless told otherwise. */
export async function loadDomain(folder: string): Promise<Domain> {
  const file = resolve(domainPath(folder), 'index.ts');
  if (!existsSync(file)) throw new DomainError(`DOMAIN: ${folder}/index.ts does not exist`);
  loadDomainFilesFrom(domainPath(folder));
  const module = (await import(pathToFileURL(file).href)) as { default?: Partial<Domain> };
  const domain = module.default;
  if (!domain || !Array.isArray(domain.entities) || !domain.policy || !Array.isArray(domain.migrations))
    throw new DomainError(
      `DOMAIN: ${folder}/index.ts does not export a domain (entities, policy, migrations) as its default`,
    );
  return domain as Domain;
}
