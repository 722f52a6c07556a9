import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser, Role } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { SessionRevokeReason } from './entities/session.entity';
import { ClientContext, IdentityHooks } from './identity.hooks';
import { isUuid } from '../common/ids';
import { hashToken, newOpaqueToken } from './tokens';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  sessionId: string;
}

/** What the access-token check yields: the caller, and when their session last proved its password. */
export interface Principal {
  user: AuthUser;
  reauthenticatedAt: Date | null;
}

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  iat: number;
  exp: number;
}

const invalidRefresh = (detail: string) => new AppError('INVALID_TOKEN', detail);

/**
 * Sessions, short-lived JWT access tokens (`sub` + `sid`) and opaque rotating refresh tokens. A
 * session is a refresh-token family: each refresh retires the presented token and issues a new one;
 * presenting a retired token again means it was copied, so the whole family is revoked.
 */
@Injectable()
export class SessionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly hooks: IdentityHooks,
  ) {}

  /** Opens a session in the caller's transaction. The login itself counts as a fresh authentication. */
  async start(em: EntityManager, userId: string, ctx: ClientContext, now: Date): Promise<TokenPair> {
    const sessionId = randomUUID();
    const expiresAt = this.refreshExpiry(now, now);
    await em.query(
      `INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, reauthenticated_at, ip, user_agent)
       VALUES ($1, $2, $3, $3, $4, $3, $5, $6)`,
      [sessionId, userId, now, expiresAt, ctx.ip, ctx.userAgent ?? null],
    );
    const refreshToken = await this.insertRefreshToken(em, sessionId, now, randomUUID(), expiresAt);
    return this.pair(userId, sessionId, refreshToken, now);
  }

  async refresh(refreshToken: string, ctx: ClientContext): Promise<TokenPair> {
    const hash = hashToken(refreshToken);
    const found: { session_id: string }[] = await this.dataSource.query('SELECT session_id FROM refresh_tokens WHERE token_hash = $1', [
      hash,
    ]);
    if (!found.length) throw invalidRefresh('The refresh token is not valid');
    const sessionId = found[0].session_id;

    const result = await this.tx.run(async (em) => {
      const now = this.clock.now();
      // The session row is the family lock: every rotation and revocation of the family queues here.
      const sessions: { user_id: string; created_at: Date; revoked_at: Date | null; expires_at: Date }[] = await em.query(
        'SELECT user_id, created_at, revoked_at, expires_at FROM sessions WHERE id = $1 FOR UPDATE',
        [sessionId],
      );
      const session = sessions[0];
      if (session.revoked_at) return { kind: 'ended' as const };
      const tokens: { id: string; expires_at: Date; rotated_at: Date | null }[] = await em.query(
        'SELECT id, expires_at, rotated_at FROM refresh_tokens WHERE token_hash = $1',
        [hash],
      );
      const token = tokens[0];
      if (token.rotated_at) {
        await this.revokeLocked(em, sessionId, 'refresh_token_reuse', now);
        await this.hooks.emit('refreshTokenReused', em, session.user_id, sessionId, ctx);
        return { kind: 'reused' as const };
      }
      if (token.expires_at <= now || session.expires_at <= now) return { kind: 'expired' as const };

      const expiresAt = this.refreshExpiry(now, session.created_at);
      if (expiresAt <= now) return { kind: 'expired' as const };
      const nextId = randomUUID();
      await em.query('UPDATE refresh_tokens SET rotated_at = $2, replaced_by = $3 WHERE id = $1', [token.id, now, nextId]);
      const next = await this.insertRefreshToken(em, sessionId, now, nextId, expiresAt);
      await em.query('UPDATE sessions SET last_used_at = $2, expires_at = $3 WHERE id = $1', [sessionId, now, expiresAt]);
      return { kind: 'ok' as const, pair: await this.pair(session.user_id, sessionId, next, now) };
    });

    switch (result.kind) {
      case 'ok':
        return result.pair;
      case 'reused':
        throw invalidRefresh('This refresh token was already used; the session has been revoked');
      case 'expired':
        throw invalidRefresh('The refresh token has expired');
      case 'ended':
        throw invalidRefresh('The session has ended');
    }
  }

  /** Revokes one of the user's sessions; false when there is no such live session. */
  async revoke(em: EntityManager | undefined, userId: string, sessionId: string, reason: SessionRevokeReason): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const rows = await queryRows(
      em ?? this.dataSource.manager,
      `UPDATE sessions SET revoked_at = $3, revoked_reason = $4 WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING id`,
      [sessionId, userId, this.clock.now(), reason],
    );
    return rows.length > 0;
  }

  /** Revokes every live session of the user except `keep` (when given); returns how many. */
  async revokeAll(em: EntityManager, userId: string, reason: SessionRevokeReason, keep?: string): Promise<number> {
    const rows = await queryRows(
      em,
      `UPDATE sessions SET revoked_at = $3, revoked_reason = $4
       WHERE user_id = $1 AND revoked_at IS NULL AND ($2::uuid IS NULL OR id <> $2) RETURNING id`,
      [userId, keep ?? null, this.clock.now(), reason],
    );
    return rows.length;
  }

  async list(userId: string, currentSessionId: string) {
    const rows: { id: string; created_at: Date; last_used_at: Date; expires_at: Date; ip: string | null; user_agent: string | null }[] =
      await this.dataSource.query(
        `SELECT id, created_at, last_used_at, expires_at, host(ip) AS ip, user_agent FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC LIMIT 200`,
        [userId, this.clock.now()],
      );
    return {
      items: rows.map((r) => ({
        id: r.id,
        current: r.id === currentSessionId,
        createdAt: r.created_at.toISOString(),
        lastUsedAt: r.last_used_at.toISOString(),
        expiresAt: r.expires_at.toISOString(),
        ip: r.ip,
        userAgent: r.user_agent,
      })),
    };
  }

  /** Opens the re-authentication window of the session. */
  async markReauthenticated(sessionId: string): Promise<void> {
    await this.dataSource.query('UPDATE sessions SET reauthenticated_at = $2 WHERE id = $1 AND revoked_at IS NULL', [
      sessionId,
      this.clock.now(),
    ]);
  }

  /** The caller behind an access token, or null when its session has ended (checked on every request). */
  async principal(userId: string, sessionId: string): Promise<Principal | null> {
    if (!isUuid(userId) || !isUuid(sessionId)) return null;
    const rows = await queryRows<{ email: string; roles: Role[]; reauthenticated_at: Date | null }>(
      this.dataSource,
      `SELECT u.email, u.roles, s.reauthenticated_at FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > $3`,
      [sessionId, userId, this.clock.now()],
      { prepare: true },
    );
    if (!rows.length) return null;
    return { user: { id: userId, email: rows[0].email, roles: rows[0].roles, sessionId }, reauthenticatedAt: rows[0].reauthenticated_at };
  }

  private async revokeLocked(em: EntityManager, sessionId: string, reason: SessionRevokeReason, now: Date): Promise<void> {
    await em.query('UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL', [
      sessionId,
      now,
      reason,
    ]);
  }

  private async insertRefreshToken(em: EntityManager, sessionId: string, now: Date, id: string, expiresAt: Date): Promise<string> {
    const token = newOpaqueToken();
    await em.query('INSERT INTO refresh_tokens (id, session_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      id,
      sessionId,
      hashToken(token),
      now,
      expiresAt,
    ]);
    return token;
  }

  /**
   * A refresh keeps the session alive for the refresh-token lifetime, but never past SESSION_MAX_DAYS
   * after sign-in: then the user signs in again (and the login guard sees them again).
   */
  private refreshExpiry(now: Date, sessionCreatedAt: Date): Date {
    const sliding = now.getTime() + this.config.refreshTokenTtlDays * 86400_000;
    const absolute = sessionCreatedAt.getTime() + this.config.security.sessionMaxDays * 86400_000;
    return new Date(Math.min(sliding, absolute));
  }

  /** Access tokens are dated by the business clock, and checked against it (see JwtStrategy). */
  private async pair(userId: string, sessionId: string, refreshToken: string, now: Date): Promise<TokenPair> {
    const iat = Math.floor(now.getTime() / 1000);
    const ttl = this.config.accessTokenTtlSeconds;
    const accessToken = await this.jwt.signAsync({ sub: userId, sid: sessionId, iat, exp: iat + ttl });
    return { accessToken, refreshToken, expiresIn: ttl, sessionId };
  }
}
