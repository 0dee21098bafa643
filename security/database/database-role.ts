import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { dangerouslyBypassRowSecurity } from '../system/row-security.js';
import { runSql } from '../../src/db/raw-sql.js';
import { type DatabaseSecurity } from '../../src/db/request-transaction.js';

/** The role requests run as when the gateway is given one privileged URL: owns nothing, no BYPASSRLS. */
export const APP_ROLE = 'grantgate_app';

/** The gateway cannot run requests under row-level security; the message says why, in one line. */
export class DatabaseRoleError extends Error {}

interface RoleFacts {
  name: string;
  superuser: boolean;
  bypassRls: boolean;
  createRole: boolean;
  ownsTables: boolean;
}

/**
 * Runs `work` in one transaction that holds this database's preparation lock: instances starting
 * together on one database would otherwise collide on the same GRANTs ("tuple concurrently updated").
 */
async function underPreparationLock<T>(orm: MikroORM, work: (em: EntityManager) => Promise<T>): Promise<T> {
  return dangerouslyBypassRowSecurity(orm.em).transactional(async (em) => {
    await runSql(em, "select pg_advisory_xact_lock(hashtext('grantgate.prepare-database-security'))");
    return work(em);
  });
}

async function roleFacts(em: EntityManager): Promise<RoleFacts> {
  const [row] = await runSql<RoleFacts>(
    em,
    `select current_user as name, rolsuper as superuser, rolbypassrls as "bypassRls",
            rolcreaterole as "createRole",
            exists (select 1 from pg_tables where schemaname = current_schema() and tableowner = current_user) as "ownsTables"
       from pg_roles where rolname = current_user`,
  );
  return row!;
}

/**
 * Table and sequence rights for `role`, and nothing more: it owns nothing and bypasses nothing. In
 * `public` and in every other schema an entity maps (an imported database may use several).
 */
async function grantDataRights(em: EntityManager, role: string): Promise<void> {
  const quoted = `"${role.replaceAll('"', '""')}"`;
  const schemas = new Set(['public']);
  for (const meta of em.getMetadata().getAll().values()) {
    if (meta.schema && meta.schema !== '*' && !meta.embeddable) schemas.add(meta.schema);
  }
  for (const schema of schemas) {
    const name = `"${schema.replaceAll('"', '""')}"`;
    await runSql(em, `grant usage on schema ${name} to ${quoted}`);
    await runSql(em, `grant select, insert, update, delete on all tables in schema ${name} to ${quoted}`);
    await runSql(em, `grant usage, select on all sequences in schema ${name} to ${quoted}`);
  }
}

/** Roles belong to the whole server: a start on another database may create APP_ROLE at the same time. */
const lostRoleRace = (error: unknown) =>
  ['42710', '23505', 'XX000'].includes((error as { code?: string }).code ?? '');

async function ensureAppRole(em: EntityManager, facts: RoleFacts): Promise<void> {
  const [existing] = await runSql(em, 'select 1 from pg_roles where rolname = ?', [APP_ROLE]);
  if (!existing) {
    if (!facts.superuser && !facts.createRole) {
      throw new DatabaseRoleError(
        `DATABASE_URL's role "${facts.name}" may not create the role ${APP_ROLE} that requests run as: ` +
          `create it (create role ${APP_ROLE} nologin), or connect DATABASE_URL as a role without BYPASSRLS ` +
          `that owns no tables and set MIGRATION_DATABASE_URL to the owner`,
      );
    }
    // In a savepoint, so losing the race does not abort the preparation's transaction.
    await em
      .transactional((inner) => runSql(inner, `create role ${APP_ROLE} nologin nobypassrls`))
      .catch((error: unknown) => {
        if (!lostRoleRace(error)) throw error;
      });
  }
  // SET ROLE needs membership unless the connecting role is a superuser.
  if (facts.superuser) return;
  const [member] = await runSql(em, "select 1 where pg_has_role(current_user, ?, 'member')", [APP_ROLE]);
  if (member) return;
  await runSql(em, `grant ${APP_ROLE} to current_user`).catch((error: unknown) => {
    if ((error as { code?: string }).code !== '42501') throw error;
    throw new DatabaseRoleError(
      `DATABASE_URL's role "${facts.name}" is not a member of ${APP_ROLE} and may not make itself one: ` +
        `run "grant ${APP_ROLE} to ${facts.name}" as an administrator`,
    );
  });
}

/**
 * Decides how requests meet the database's policies, and prepares it:
 * - `appOrm` given (DATABASE_URL is the application role, MIGRATION_DATABASE_URL the owner): that role
 *   must not be a superuser, bypass RLS or own the tables; the owner grants it the data rights.
 * - one privileged URL: create APP_ROLE if needed, grant it the data rights, and switch every request
 *   transaction to it (SET LOCAL ROLE).
 */
export async function prepareDatabaseSecurity(options: {
  ownerOrm: MikroORM;
  appOrm?: MikroORM;
}): Promise<DatabaseSecurity> {
  const { ownerOrm, appOrm } = options;
  if (appOrm) {
    const app = await roleFacts(dangerouslyBypassRowSecurity(appOrm.em));
    const reason = app.superuser
      ? 'is a superuser'
      : app.bypassRls
        ? 'has BYPASSRLS'
        : app.ownsTables
          ? 'owns the tables'
          : undefined;
    if (reason) {
      throw new DatabaseRoleError(
        `DATABASE_URL's role "${app.name}" ${reason}, so PostgreSQL would not apply row-level security to it: ` +
          'connect DATABASE_URL as an application role, or leave MIGRATION_DATABASE_URL unset to let the gateway switch roles',
      );
    }
    await underPreparationLock(ownerOrm, (em) => grantDataRights(em, app.name));
    return {};
  }
  await underPreparationLock(ownerOrm, async (em) => {
    const owner = await roleFacts(em);
    if (!owner.superuser && !owner.ownsTables) {
      throw new DatabaseRoleError(
        `DATABASE_URL's role "${owner.name}" neither owns the tables nor is a superuser, so it cannot run ` +
          'the migrations: set MIGRATION_DATABASE_URL to the owner and keep DATABASE_URL as the application role',
      );
    }
    await ensureAppRole(em, owner);
    await grantDataRights(em, APP_ROLE);
  });
  return { switchToRole: APP_ROLE };
}
