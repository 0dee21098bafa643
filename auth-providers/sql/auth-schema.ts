import { type SqlMigration } from '../../postgres/sql-migrations.js';

/** The SQL provider's tables, in their own schema so that several systems can share one user base. */
export const AUTH_SCHEMA = 'auth';

export const authSchemaMigrations: SqlMigration[] = [
  {
    id: 'sql-provider-001-users-roles-attributes',
    sql: `
      create table auth."user" (
        id text primary key check (id <> ''),
        name text,
        password_hash text not null,
        disabled boolean not null default false,
        created_at timestamptz not null default now()
      );
      create table auth.role (name text primary key check (name <> ''));
      create table auth.user_role (
        user_id text not null references auth."user" (id) on delete cascade,
        role text not null references auth.role (name),
        primary key (user_id, role)
      );
      create table auth.user_attribute (
        user_id text not null references auth."user" (id) on delete cascade,
        name text not null check (name <> ''),
        value jsonb not null,
        primary key (user_id, name)
      );`,
  },
];
