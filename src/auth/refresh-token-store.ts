import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type pg from 'pg';
import { type AuthUser } from '../../auth-providers/auth-provider.js';
import { inTransaction } from '../../postgres/pg-transaction.js';
import { applySqlMigrations, type SqlMigration } from '../../postgres/sql-migrations.js';

/** Exported for the upgrade test, which builds a database as an older gateway left it. */
export const REFRESH_TOKEN_MIGRATIONS: SqlMigration[] = [
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
  {
    // Each token carries its family's login time, so that REFRESH_TOKEN_MAX_AGE bounds the family
    // however often it is rotated. Families issued before this knew no login time: their oldest
    // token is the best record of it. Ending every family of a user looks them up by user.
    id: 'gateway-002-refresh-token-family-login',
    sql: `
      alter table auth.refresh_token add column family_login_at timestamptz;
      update auth.refresh_token token set family_login_at = family.login_at
        from (select family_id, min(created_at) as login_at from auth.refresh_token group by family_id) family
        where token.family_id = family.family_id;
      alter table auth.refresh_token alter column family_login_at set not null;
      create index refresh_token_user_index on auth.refresh_token (user_id);`,
  },
];

/** Only a hash is stored: a leaked table does not hand out sessions. */
const hashOf = (token: string) => createHash('sha256').update(token).digest('base64url');

export type RotateResult =
  | { outcome: 'rotated'; user: AuthUser; refreshToken: string }
  | { outcome: 'invalid' }
  | { outcome: 'reused' };

/** A family's id and login time (as PostgreSQL's text, so it is copied to the microsecond). */
interface Family {
  id: string;
  loginAt: string | null;
}

/**
 * Opaque, single-use refresh tokens in PostgreSQL (shared by every gateway instance). Each login
 * starts a family; each refresh replaces the token with the next of its family; presenting a token
 * that was already used revokes the whole family, since one of the two presenters is a thief.
 *
 * A family has ended once any of its tokens is revoked (reuse, logout, its age, a change of its user):
 * a refresh that raced the revocation may have issued one more token, and that one is refused too.
 * A family ends `maxAgeSeconds` after its login, however often it was rotated.
 */
export class RefreshTokenStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlSeconds: number,
    private readonly maxAgeSeconds: number,
  ) {}

  migrate(): Promise<void> {
    return applySqlMigrations(this.pool, 'auth', REFRESH_TOKEN_MIGRATIONS);
  }

  /** A new token, in a new family (logged in now) unless `family` is given. */
  async issue(
    user: AuthUser,
    family: Family = { id: randomUUID(), loginAt: null },
    client: pg.Pool | pg.PoolClient = this.pool,
  ): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await client.query(
      `insert into auth.refresh_token
         (token_hash, family_id, user_id, user_snapshot, expires_at, family_login_at)
       values ($1, $2, $3, $4, now() + make_interval(secs => $5), coalesce($6::timestamptz, now()))`,
      [hashOf(token), family.id, user.id, JSON.stringify(user), this.ttlSeconds, family.loginAt],
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
        `select family_id, family_login_at::text, user_snapshot, used_at, expires_at < now() as expired,
           family_login_at + make_interval(secs => $2) <= now() as past_max_age,
           exists (select 1 from auth.refresh_token member
                   where member.family_id = token.family_id and member.revoked_at is not null) as ended
         from auth.refresh_token token where token_hash = $1 for update`,
        [hashOf(token), this.maxAgeSeconds],
      );
      const row = rows[0];
      if (!row || row.ended || row.expired) return { outcome: 'invalid' };
      // Committed although the refresh fails: the family's end must stick.
      if (row.past_max_age) {
        await this.revokeFamilyWith(client, row.family_id);
        return { outcome: 'invalid' };
      }
      if (row.used_at) {
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
      const family = { id: row.family_id, loginAt: row.family_login_at };
      return { outcome: 'rotated', user, refreshToken: await this.issue(user, family, client) };
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

  /**
   * Ends every family of `userId` (a changed password, role or state): their refresh tokens stop
   * working. Access tokens already issued run out by themselves (ACCESS_TOKEN_TTL).
   */
  async revokeUserFamilies(userId: string): Promise<void> {
    await this.pool.query(
      'update auth.refresh_token set revoked_at = now() where user_id = $1 and revoked_at is null',
      [userId],
    );
  }

  private async revokeFamilyWith(client: pg.Pool | pg.PoolClient, familyId: string) {
    await client.query(
      'update auth.refresh_token set revoked_at = now() where family_id = $1 and revoked_at is null',
      [familyId],
    );
  }
}
