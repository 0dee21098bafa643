import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { inTransaction } from '../db/pg-transaction.js';
import { applySqlMigrations, type SqlMigration } from '../db/sql-migrations.js';

const migrations: SqlMigration[] = [
  {
    id: 'gateway-001-refresh-tokens',
    sql: `
      create table auth.refresh_token (
        token_hash text primary key,
        family_id uuid not null,
        user_id text not null,
        user_snapshot jsonb not null,
        expires_at timestamptz not null,
        used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz not null default now()
      );
      create index refresh_token_family_index on auth.refresh_token (family_id);`,
  },
];

/** Only a hash is stored: a leaked table does not hand out sessions. */
const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

export type RotateResult =
  | { outcome: 'rotated'; user: AuthUser; refreshToken: string }
  | { outcome: 'invalid' }
  | { outcome: 'reused' };

/**
 * Opaque, single-use refresh tokens in PostgreSQL (shared by every gateway instance). Each login
 * starts a family; each refresh replaces the token with the next of its family; presenting a token
 * that was already used revokes the whole family, since one of the two presenters is a thief.
 */
export class RefreshTokenStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlSeconds: number,
  ) {}

  migrate(): Promise<void> {
    return applySqlMigrations(this.pool, 'auth', migrations);
  }

  /** A new token, in a new family unless `familyId` is given. */
  async issue(
    user: AuthUser,
    familyId: string = randomUUID(),
    client: pg.Pool | pg.PoolClient = this.pool,
  ): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await client.query(
      `insert into auth.refresh_token (token_hash, family_id, user_id, user_snapshot, expires_at)
       values ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [hashOf(token), familyId, user.id, JSON.stringify(user), this.ttlSeconds],
    );
    return token;
  }

  /**
   * Uses up `token` and issues its successor for the user that `reload` returns (the provider's
   * current view of the user, or null when the user is gone or disabled).
   */
  async rotate(
    token: string,
    reload: (snapshot: AuthUser) => Promise<AuthUser | null>,
  ): Promise<RotateResult> {
    return inTransaction(this.pool, async (client): Promise<RotateResult> => {
      const { rows } = await client.query(
        `select family_id, user_snapshot, used_at, revoked_at, expires_at < now() as expired
         from auth.refresh_token where token_hash = $1 for update`,
        [hashOf(token)],
      );
      const row = rows[0];
      if (!row || row.revoked_at || row.expired) return { outcome: 'invalid' };
      if (row.used_at) {
        // Committed although the refresh fails: the revocation must stick.
        await this.revokeFamilyWith(client, row.family_id);
        return { outcome: 'reused' };
      }
      await client.query('update auth.refresh_token set used_at = now() where token_hash = $1', [
        hashOf(token),
      ]);
      const user = await reload(row.user_snapshot as AuthUser);
      if (!user) {
        await this.revokeFamilyWith(client, row.family_id);
        return { outcome: 'invalid' };
      }
      return { outcome: 'rotated', user, refreshToken: await this.issue(user, row.family_id, client) };
    });
  }

  /** Revokes the family of `token` if it is `userId`'s; false when it is unknown or someone else's. */
  async revokeFamily(token: string, userId: string): Promise<boolean> {
    const { rows } = await this.pool.query(
      'select family_id from auth.refresh_token where token_hash = $1 and user_id = $2',
      [hashOf(token), userId],
    );
    if (!rows[0]) return false;
    await this.revokeFamilyWith(this.pool, rows[0].family_id);
    return true;
  }

  private async revokeFamilyWith(client: pg.Pool | pg.PoolClient, familyId: string) {
    await client.query(
      'update auth.refresh_token set revoked_at = now() where family_id = $1 and revoked_at is null',
      [familyId],
    );
  }
}
