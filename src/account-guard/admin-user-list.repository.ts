import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Role } from '../common/auth.decorators';
import { Page } from '../common/pagination';
import { CreatedRangePage, newestFirst, SqlConditions } from '../database/newest-first';
import type { UserRecord } from '../identity/identity.hooks';
import { toUserRecord, UserRow } from '../identity/users.repository';

export interface AdminUserFilter extends CreatedRangePage {
  /** Users whose email starts with this (any case). */
  email?: string;
  role?: Role;
  /** Users with (true) or without (false) an active account hold. */
  hold?: boolean;
}

export interface ListedUser extends UserRecord {
  onHold: boolean;
}

interface ListedUserRow extends UserRow {
  on_hold: boolean;
}

const toListedUser = (r: ListedUserRow): ListedUser => ({ ...toUserRecord(r), onHold: r.on_hold });

/** LIKE's wildcards in a prefix are literal characters. */
const likePrefix = (prefix: string): string => `${prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Users with their account-hold flag, newest first, for GET /admin/users. The account guard owns the
 * list because the hold is its fact; it reads `users` as its security events do (users_email_prefix,
 * users_created, account_holds_active).
 */
@Injectable()
export class AdminUserListRepository {
  list(db: DataSource, f: AdminUserFilter): Promise<Page<ListedUser>> {
    const where = new SqlConditions()
      .when(f.email === undefined ? undefined : likePrefix(f.email), (p) => `lower(email) LIKE ${p}`)
      .when(f.role, (p) => `${p} = ANY (roles)`)
      .when(f.hold, (p) => `on_hold = ${p}::boolean`);
    return newestFirst<ListedUserRow, ListedUser>(
      db,
      `SELECT u.id, u.email::text AS email, u.display_name, u.roles, u.email_verified_at, u.created_at,
         EXISTS (SELECT 1 FROM account_holds h WHERE h.user_id = u.id AND h.released_at IS NULL) AS on_hold
       FROM users u`,
      where,
      f,
      toListedUser,
    );
  }
}
