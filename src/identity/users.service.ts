import { Injectable } from '@nestjs/common';
import { isUuid } from '../common/ids';
import { DataSource, EntityManager } from 'typeorm';
import { Role } from '../common/auth.decorators';
import { UserEntity } from './entities/user.entity';
import { UserRecord } from './identity.hooks';

export interface NewUser {
  email: string;
  displayName: string;
  passwordHash: string;
  roles?: Role[];
  emailVerifiedAt?: Date | null;
}

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  roles: Role[];
  email_verified_at: Date | null;
  created_at: Date;
}

const COLUMNS = 'id, email, display_name, roles, email_verified_at, created_at';

export function toUserRecord(row: UserRow | UserEntity): UserRecord {
  if (row instanceof UserEntity) {
    const { id, email, displayName, roles, emailVerifiedAt, createdAt } = row;
    return { id, email, displayName, roles, emailVerifiedAt, createdAt };
  }
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    roles: row.roles,
    emailVerifiedAt: row.email_verified_at,
    createdAt: row.created_at,
  };
}

/** The public shape of a user in responses. */
export function userView(u: UserRecord) {
  return {
    id: u.id,
    email: u.email,
    displayName: u.displayName,
    roles: u.roles,
    emailVerified: u.emailVerifiedAt !== null,
    createdAt: u.createdAt.toISOString(),
  };
}

/** Reads and writes the users table. Other modules reach users through IdentityService, not here. */
@Injectable()
export class UsersService {
  constructor(private readonly dataSource: DataSource) {}

  async findById(id: string, em?: EntityManager): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    const user = await (em ?? this.dataSource.manager).getRepository(UserEntity).findOneBy({ id });
    return user ? toUserRecord(user) : null;
  }

  /** The user and password hash for a password check (email compared case-insensitively: citext). */
  async findWithPasswordHash(email: string): Promise<{ user: UserRecord; passwordHash: string } | null> {
    const rows: (UserRow & { password_hash: string })[] = await this.dataSource.query(
      `SELECT ${COLUMNS}, password_hash FROM users WHERE email = $1`,
      [email],
    );
    return rows.length ? { user: toUserRecord(rows[0]), passwordHash: rows[0].password_hash } : null;
  }

  /** Inserts a user; answers null when the email is taken (no exception, so the transaction stays usable). */
  async insert(em: EntityManager, u: NewUser, now: Date): Promise<UserRecord | null> {
    const rows: UserRow[] = await em.query(
      `INSERT INTO users (email, display_name, password_hash, roles, email_verified_at, created_at, password_changed_at, updated_at)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $6, $6)
       ON CONFLICT (email) DO NOTHING RETURNING ${COLUMNS}`,
      [u.email, u.displayName, u.passwordHash, u.roles ?? ['buyer'], u.emailVerifiedAt ?? null, now],
    );
    return rows.length ? toUserRecord(rows[0]) : null;
  }

  /** Locks the user's row for the rest of the transaction. */
  async lock(em: EntityManager, id: string): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    const rows: UserRow[] = await em.query(`SELECT ${COLUMNS} FROM users WHERE id = $1 FOR UPDATE`, [id]);
    return rows.length ? toUserRecord(rows[0]) : null;
  }

  async lockByEmail(em: EntityManager, email: string): Promise<UserRecord | null> {
    const rows: UserRow[] = await em.query(`SELECT ${COLUMNS} FROM users WHERE email = $1 FOR UPDATE`, [email]);
    return rows.length ? toUserRecord(rows[0]) : null;
  }

  /**
   * Locks the user's row (FOR SHARE, or FOR UPDATE to change it) if the password is still the one
   * `credentialStamp` was taken from; null when it changed since (or the user is gone).
   */
  async lockWithCredential(em: EntityManager, id: string, credentialStamp: Buffer, mode: 'share' | 'update'): Promise<UserRecord | null> {
    if (!isUuid(id)) return null;
    const rows: UserRow[] = await em.query(
      `SELECT ${COLUMNS} FROM users WHERE id = $1 AND sha256(convert_to(password_hash, 'UTF8')) = $2 FOR ${mode === 'share' ? 'SHARE' : 'UPDATE'}`,
      [id, credentialStamp],
    );
    return rows.length ? toUserRecord(rows[0]) : null;
  }

  /** Locks the user's row FOR SHARE: password changes and resets wait until the transaction ends. */
  async lockShared(em: EntityManager, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows: unknown[] = await em.query('SELECT 1 FROM users WHERE id = $1 FOR SHARE', [id]);
    return rows.length > 0;
  }

  async setPasswordHash(em: EntityManager, id: string, passwordHash: string, now: Date): Promise<void> {
    await em.query('UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1', [id, passwordHash, now]);
  }

  async setRoles(em: EntityManager, id: string, roles: Role[], now: Date): Promise<void> {
    await em.query('UPDATE users SET roles = $2::text[], updated_at = $3 WHERE id = $1', [id, roles, now]);
  }
}
