import pg from 'pg';
import { inTransaction } from '../../postgres/pg-transaction.js';
import { applySqlMigrations } from '../../postgres/sql-migrations.js';
import { type AuthUser } from '../auth-provider.js';
import { AUTH_SCHEMA, authSchemaMigrations } from './auth-schema.js';
import { hashPassword } from './password-hashing.js';

export interface StoredUser extends AuthUser {
  disabled: boolean;
}

export class UserStoreError extends Error {}

/** The SQL provider's users, roles and attributes: used by the provider at login and by the CLI. */
export class UserStore {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
    // An idle connection the server dropped is replaced on next use; it must not crash the process.
    this.pool.on('error', () => {});
  }

  migrate(): Promise<void> {
    return applySqlMigrations(this.pool, AUTH_SCHEMA, authSchemaMigrations);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  async addUser(user: AuthUser & { password: string }): Promise<void> {
    const passwordHash = await hashPassword(user.password);
    await inTransaction(this.pool, async (client) => {
      const inserted = await client.query(
        'insert into auth."user" (id, name, password_hash) values ($1, $2, $3) on conflict (id) do nothing',
        [user.id, user.name ?? null, passwordHash],
      );
      if (inserted.rowCount === 0) throw new UserStoreError(`user ${user.id} already exists`);
      await this.grantWith(client, user.id, user.roles);
      for (const [name, value] of Object.entries(user.attributes)) {
        await client.query('insert into auth.user_attribute (user_id, name, value) values ($1, $2, $3)', [
          user.id,
          name,
          JSON.stringify(value),
        ]);
      }
    });
  }

  async setPassword(id: string, password: string): Promise<void> {
    await this.updateUser(id, 'password_hash = $2', [await hashPassword(password)]);
  }

  async setDisabled(id: string, disabled: boolean): Promise<void> {
    await this.updateUser(id, 'disabled = $2', [disabled]);
  }

  async grant(id: string, roles: string[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await this.requireUser(client, id);
      await this.grantWith(client, id, roles);
    });
  }

  async revoke(id: string, roles: string[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await this.requireUser(client, id);
      await client.query('delete from auth.user_role where user_id = $1 and role = any($2)', [id, roles]);
    });
  }

  /** The stored password hash and state of a user, or null when there is no such user. */
  async credentials(id: string): Promise<{ passwordHash: string; disabled: boolean } | null> {
    const { rows } = await this.pool.query('select password_hash, disabled from auth."user" where id = $1', [
      id,
    ]);
    return rows[0] ? { passwordHash: rows[0].password_hash, disabled: rows[0].disabled } : null;
  }

  /** The password hash of every user who can log in (not disabled). */
  async enabledPasswordHashes(): Promise<{ id: string; passwordHash: string }[]> {
    const { rows } = await this.pool.query(
      'select id, password_hash from auth."user" where not disabled order by id',
    );
    return rows.map((row) => ({ id: row.id, passwordHash: row.password_hash }));
  }

  async replaceHash(id: string, passwordHash: string): Promise<void> {
    await this.pool.query('update auth."user" set password_hash = $2 where id = $1', [id, passwordHash]);
  }

  /** Users with their roles and attributes; all of them, or the one with `id`. */
  async list(id?: string): Promise<StoredUser[]> {
    const { rows } = await this.pool.query(
      `select u.id, u.name, u.disabled,
         coalesce((select array_agg(r.role order by r.role) from auth.user_role r where r.user_id = u.id), '{}') as roles,
         coalesce((select jsonb_object_agg(a.name, a.value) from auth.user_attribute a where a.user_id = u.id), '{}') as attributes
       from auth."user" u where $1::text is null or u.id = $1 order by u.id`,
      [id ?? null],
    );
    return rows.map((row) => ({
      id: row.id,
      name: row.name,
      disabled: row.disabled,
      roles: row.roles,
      attributes: row.attributes,
    }));
  }

  private async grantWith(client: pg.PoolClient, id: string, roles: string[]) {
    for (const role of roles) {
      await client.query('insert into auth.role (name) values ($1) on conflict do nothing', [role]);
      await client.query(
        'insert into auth.user_role (user_id, role) values ($1, $2) on conflict do nothing',
        [id, role],
      );
    }
  }

  private async requireUser(client: pg.PoolClient, id: string) {
    const { rowCount } = await client.query('select 1 from auth."user" where id = $1', [id]);
    if (rowCount === 0) throw new UserStoreError(`no user ${id}`);
  }

  private async updateUser(id: string, assignment: string, values: unknown[]) {
    const { rowCount } = await this.pool.query(`update auth."user" set ${assignment} where id = $1`, [
      id,
      ...values,
    ]);
    if (rowCount === 0) throw new UserStoreError(`no user ${id}`);
  }
}
