import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { UserRow } from './users.repository';

type Db = EntityManager | DataSource;

export type SessionRevokeReason = 'logout' | 'revoked_by_user' | 'password_change' | 'password_reset' | 'refresh_token_reuse' | 'admin';

export interface NewSession {
  id: string;
  userId: string;
  ip: string;
  userAgent: string | null;
  /** Creation, last use and re-authentication: a login counts as a fresh authentication. */
  now: Date;
  expiresAt: Date;
}

/** An access check's question: is this session of this user live at `now`? */
export interface PrincipalKey {
  sessionId: string;
  userId: string;
  now: Date;
}

/** A session as its refresh-token family's lock sees it. */
export interface SessionFamilyRow {
  user_id: string;
  created_at: Date;
  revoked_at: Date | null;
  expires_at: Date;
}

export interface RefreshTokenRow {
  id: string;
  expires_at: Date;
  rotated_at: Date | null;
}

export interface LiveSessionRow {
  id: string;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  ip: string | null;
  user_agent: string | null;
}

export interface PrincipalRow extends UserRow {
  reauthenticated_at: Date | null;
  /** The extra columns, `p0`, `p1`... */
  [extra: `p${number}`]: unknown;
}

/** The sessions table and the refresh tokens of each session (stored as SHA-256 hashes). */
@Injectable()
export class SessionsRepository {
  async insertSession(em: EntityManager, s: NewSession): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, reauthenticated_at, ip, user_agent)
       VALUES ($1, $2, $3, $3, $4, $3, $5, $6)`,
      [s.id, s.userId, s.now, s.expiresAt, s.ip, s.userAgent],
    );
  }

  async insertRefreshToken(em: EntityManager, id: string, sessionId: string, tokenHash: Buffer, now: Date, expiresAt: Date): Promise<void> {
    await queryRows(em, 'INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      id,
      sessionId,
      tokenHash,
      now,
      expiresAt,
    ]);
  }

  /** The session a refresh token belongs to, or null for an unknown token. */
  async sessionOfRefreshToken(db: Db, tokenHash: Buffer): Promise<string | null> {
    const rows = await queryRows<{ session_id: string }>(db, 'SELECT session_id FROM refresh_tokens WHERE token_hash = $1', [tokenHash]);
    return rows.length ? rows[0].session_id : null;
  }

  /** Locks the session row: every rotation and revocation of its token family queues here. */
  async lockFamily(em: EntityManager, sessionId: string): Promise<SessionFamilyRow | undefined> {
    const rows = await queryRows<SessionFamilyRow>(
      em,
      'SELECT user_id, created_at, revoked_at, expires_at FROM sessions WHERE id = $1 FOR UPDATE',
      [sessionId],
    );
    return rows[0];
  }

  async findRefreshToken(em: EntityManager, tokenHash: Buffer): Promise<RefreshTokenRow | undefined> {
    const rows = await queryRows<RefreshTokenRow>(em, 'SELECT id, expires_at, rotated_at FROM refresh_tokens WHERE token_hash = $1', [
      tokenHash,
    ]);
    return rows[0];
  }

  async retireRefreshToken(em: EntityManager, id: string, now: Date, replacedBy: string): Promise<void> {
    await queryRows(em, 'UPDATE refresh_tokens SET rotated_at = $2, replaced_by = $3 WHERE id = $1', [id, now, replacedBy]);
  }

  async extend(em: EntityManager, sessionId: string, now: Date, expiresAt: Date): Promise<void> {
    await queryRows(em, 'UPDATE sessions SET last_used_at = $2, expires_at = $3 WHERE id = $1', [sessionId, now, expiresAt]);
  }

  async revoke(em: EntityManager, sessionId: string, reason: SessionRevokeReason, now: Date): Promise<void> {
    await queryRows(em, 'UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL', [
      sessionId,
      now,
      reason,
    ]);
  }

  /** Revokes one live session of the user; false when there is none. */
  async revokeOwn(db: Db, userId: string, sessionId: string, reason: SessionRevokeReason, now: Date): Promise<boolean> {
    const rows = await queryRows(
      db,
      `UPDATE sessions SET revoked_at = $3, revoked_reason = $4 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id`,
      [sessionId, userId, now, reason],
    );
    return rows.length > 0;
  }

  /** Revokes every live session of the user except `keep`; returns how many. */
  async revokeAllOf(em: EntityManager, userId: string, keep: string | null, reason: SessionRevokeReason, now: Date): Promise<number> {
    const rows = await queryRows(
      em,
      `UPDATE sessions SET revoked_at = $3, revoked_reason = $4
       WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2) RETURNING id`,
      [userId, keep, now, reason],
    );
    return rows.length;
  }

  async listLive(db: Db, userId: string, now: Date): Promise<LiveSessionRow[]> {
    return queryRows<LiveSessionRow>(
      db,
      `SELECT id, created_at, last_used_at, expires_at, host(ip) AS ip, user_agent FROM sessions
       WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 200`,
      [userId, now],
    );
  }

  async markReauthenticated(db: Db, sessionId: string, now: Date): Promise<void> {
    await queryRows(db, 'UPDATE sessions SET reauthenticated_at = $2 WHERE id = $1 AND revoked_at IS NULL', [sessionId, now]);
  }

  /**
   * The callers behind live sessions, for several requests at once: a row for each key whose session
   * is live, `n` its place in `keys` (from 1), with the user's row and `columns` (`p0`, `p1`...:
   * select-list expressions over `s.user_id` and `k.at`, the key's time). Checked for every request,
   * hence prepared (the text only changes with `columns`, which are fixed at start-up).
   */
  async principals(db: Db, keys: readonly PrincipalKey[], columns: readonly string[]): Promise<(PrincipalRow & { n: number })[]> {
    const extra = columns.map((c, i) => `, ${c} AS p${i}`).join('');
    return queryRows<PrincipalRow & { n: number }>(
      db,
      `SELECT k.n::int AS n, u.id, u.email, u.display_name, u.roles, u.email_verified_at, u.created_at, s.reauthenticated_at${extra}
       FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) WITH ORDINALITY AS k(sid, uid, at, n)
       JOIN sessions s ON s.id = k.sid AND s.user_id = k.uid AND s.revoked_at IS NULL AND s.expires_at > k.at
       JOIN users u ON u.id = s.user_id`,
      [keys.map((k) => k.sessionId), keys.map((k) => k.userId), keys.map((k) => k.now)],
      { prepare: true },
    );
  }
}
