import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Role } from '../common/auth.decorators';
import { isUuid } from '../common/ids';
import { queryRows } from '../database/sql';
import { UserRecord } from './identity.hooks';

type Db = EntityManager | DataSource;

export interface NewUser {
  email: string;
  displayName: string;
  passwordHash: string;
  roles?: Role[];
  emailVerifiedAt?: Date | null;
}

export interface UserRow {
  id: string;
  email: string;
  display_name: string;
  roles: Role[];
  email_verified_at: Date | null;
  created_at: Date;
}

const COLUMNS = 'id, email, display_name, roles, email_verified_at, created_at';

export function toUserRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    roles: row.roles,
    emailVerifiedAt: row.email_verified_at,
    createdAt: row.created_at,
  };
}

const first = (rows: UserRow[]): UserRecord | null => (rows.length ? toUserRecord(rows[0]) : null);

/** The users table. Ids that are not UUIDs find nobody (PostgreSQL would refuse them). */
@Injectable()
export class UsersRepository {
  async findById(db: Db, id: string): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    return first(await queryRows<UserRow>(db, `SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]));
  }

  /** The user and password hash for a password check (email compared case-insensitively: citext). */
  async findByIds(db: Db, ids: string[]): Promise<UserRecord[]> {
    const rows = await queryRows<UserRow>(db, `SELECT ${COLUMNS} FROM users WHERE id = ANY ($1::uuid[])`, [ids], { prepare: true });
    return rows.map(toUserRecord);
  }

  async findWithPasswordHash(db: Db, email: string): Promise<{ user: UserRecord; passwordHash: string } | null> {
    const rows = await queryRows<UserRow & { password_hash: string }>(db, `SELECT ${COLUMNS}, password_hash FROM users WHERE email = $1`, [
      email,
    ]);
    return rows.length ? { user: toUserRecord(rows[0]), passwordHash: rows[0].password_hash } : null;
  }

  /** Inserts a user; answers null when the email is taken (no exception, so the transaction stays usable). */
  async insert(em: EntityManager, u: NewUser, now: Date): Promise<UserRecord | null> {
    const rows = await queryRows<UserRow>(
      em,
      `INSERT INTO users (email, display_name, password_hash, roles, email_verified_at, created_at, password_changed_at, updated_at)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $6, $6)
       ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
      [u.email, u.displayName, u.passwordHash, u.roles ?? ['buyer'], u.emailVerifiedAt ?? null, now],
    );
    return first(rows);
  }

  /** Locks the user's row for the rest of the transaction. */
  async lock(em: EntityManager, id: string): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    return first(await queryRows<UserRow>(em, `SELECT ${COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [id]));
  }

  async lockByEmail(em: EntityManager, email: string): Promise<UserRecord | null> {
    return first(await queryRows<UserRow>(em, `SELECT ${COLUMNS} FROM users WHERE email = $1 FOR UPDATE`, [email]));
  }

  /**
   * Locks the user's row (FOR SHARE, or FOR UPDATE to change it) if the password is still the one
   * `credentialStamp` was taken from; null when it changed since (or the user is gone).
   */
  async lockWithCredential(em: EntityManager, id: string, credentialStamp: Buffer, mode: 'share' | 'update'): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    const rows = await queryRows<UserRow>(
      em,
      `SELECT ${COLUMNS} FROM users WHERE id = $1 AND sha256(convert_to(password_hash, 'UTF8')) = $2 FOR ${mode === 'share' ? 'SHARE' : 'UPDATE'}`,
      [id, credentialStamp],
    );
    return first(rows);
  }

  /** Locks the user's row FOR SHARE: password changes and resets wait until the transaction ends. */
  async lockShared(em: EntityManager, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return (await queryRows(em, 'SELECT 1 FROM users WHERE id = $1 FOR SHARE', [id])).length > 0;
  }

  /**
   * Serializes every change that can remove an admin until the transaction ends, so two admins cannot
   * demote each other at once.
   */
  async lockAdminSet(em: EntityManager): Promise<void> {
    await queryRows(em, 'SELECT pg_advisory_xact_lock(hashtext($1))', ['users.admin-role']);
  }

  async adminExists(db: EntityManager | DataSource): Promise<boolean> {
    return (await queryRows(db, `SELECT 1 FROM users WHERE 'admin' = ANY (roles) LIMIT 1`)).length > 0;
  }

  /** The addresses of every admin, for the platform's own alerts (harm budgets). */
  async adminEmails(db: EntityManager | DataSource): Promise<string[]> {
    const rows = await queryRows<{ email: string }>(
      db,
      `SELECT email::text AS email FROM users WHERE 'admin' = ANY (roles) ORDER BY created_at`,
    );
    return rows.map((r) => r.email);
  }

  async anotherAdminExists(em: EntityManager, exceptId: string): Promise<boolean> {
    return (await queryRows(em, `SELECT 1 FROM users WHERE 'admin' = ANY (roles) AND id <> $1 LIMIT 1`, [exceptId])).length > 0;
  }

  async setPasswordHash(em: EntityManager, id: string, passwordHash: string, now: Date): Promise<void> {
    await queryRows(em, 'UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1', [
      id,
      passwordHash,
      now,
    ]);
  }

  async setRoles(em: EntityManager, id: string, roles: Role[], now: Date): Promise<void> {
    await queryRows(em, 'UPDATE users SET roles = $2::text[], updated_at = $3 WHERE id = $1', [id, roles, now]);
  }

  /** Adds one role (idempotent); the roles after, or null when there is no such user. */
  async addRole(em: EntityManager, id: string, role: Role, now: Date): Promise<Role[] | null> {
    const rows = await queryRows<{ roles: Role[] }>(
      em,
      'UPDATE users SET roles = CASE WHEN $2 = ANY (roles) THEN roles ELSE array_append(roles, $2) END, updated_at = $3 WHERE id = $1 RETURNING roles',
      [id, role, now],
    );
    return rows.length ? rows[0].roles : null;
  }

  /** Removes one role (idempotent); the roles after, or null when there is no such user. */
  async removeRole(em: EntityManager, id: string, role: Role, now: Date): Promise<Role[] | null> {
    const rows = await queryRows<{ roles: Role[] }>(
      em,
      'UPDATE users SET roles = array_remove(roles, $2), updated_at = $3 WHERE id = $1 RETURNING roles',
      [id, role, now],
    );
    return rows.length ? rows[0].roles : null;
  }

  /** Marks the address verified if it is still the user's and was not verified yet; false otherwise. */
  async markEmailVerified(em: EntityManager, id: string, email: string, now: Date): Promise<boolean> {
    const rows = await queryRows(
      em,
      `UPDATE users SET email_verified_at = $3, updated_at = $3
       WHERE id = $1 AND email = $2 AND email_verified_at IS NULL RETURNING id`,
      [id, email, now],
    );
    return rows.length > 0;
  }

  /** Sets a new, unverified address; throws PostgreSQL's unique violation when another account has it. */
  async setEmail(em: EntityManager, id: string, email: string, now: Date): Promise<UserRecord | null> {
    const rows = await queryRows<UserRow>(
      em,
      `UPDATE users SET email = $2, email_verified_at = NULL, updated_at = $3 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, email, now],
    );
    return first(rows);
  }
}
