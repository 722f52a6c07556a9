import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuthUser } from '../common/auth.decorators';
import { Clock } from '../common/clock.service';
import { isUuid } from '../common/ids';
import { addDays, SECOND_MS } from '../common/time';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityErrors } from './identity.errors';
import { ClientContext, IdentityHooks } from './identity.hooks';
import { PrincipalKey, SessionRevokeReason, SessionsRepository } from './sessions.repository';
import { hashToken, newOpaqueToken } from './tokens';
import { toUserRecord } from './users.repository';

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

/**
 * Sessions, short-lived JWT access tokens (`sub` + `sid`) and opaque rotating refresh tokens. A
 * session is a refresh-token family: each refresh retires the presented token and issues a new one;
 * presenting a retired token again means it was copied, so the whole family is revoked.
 */
@Injectable()
export class SessionsService {
  /** Access checks asked for and not yet sent (`principal`). */
  private readonly waiting: (PrincipalKey & { resolve: (p: Principal | null) => void; reject: (err: unknown) => void })[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionsRepository,
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
    await this.sessions.insertSession(em, { id: sessionId, userId, now, expiresAt, ip: ctx.ip, userAgent: ctx.userAgent ?? null });
    const refreshToken = await this.insertRefreshToken(em, sessionId, now, randomUUID(), expiresAt);
    return this.pair(userId, sessionId, refreshToken, now);
  }

  async refresh(refreshToken: string, ctx: ClientContext): Promise<TokenPair> {
    const hash = hashToken(refreshToken);
    const sessionId = await this.sessions.sessionOfRefreshToken(this.dataSource, hash);
    if (sessionId === null) throw IdentityErrors.refreshTokenUnknown();

    const result = await this.tx.run(async (em) => {
      const now = this.clock.now();
      const session = (await this.sessions.lockFamily(em, sessionId))!;
      if (session.revoked_at) return { kind: 'ended' as const };
      const token = (await this.sessions.findRefreshToken(em, hash))!;
      if (token.rotated_at) {
        await this.sessions.revoke(em, sessionId, 'refresh_token_reuse', now);
        await this.hooks.emit('refreshTokenReused', em, session.user_id, sessionId, ctx);
        return { kind: 'reused' as const };
      }
      if (token.expires_at <= now || session.expires_at <= now) return { kind: 'expired' as const };

      const expiresAt = this.refreshExpiry(now, session.created_at);
      if (expiresAt <= now) return { kind: 'expired' as const };
      const nextId = randomUUID();
      await this.sessions.retireRefreshToken(em, token.id, now, nextId);
      const next = await this.insertRefreshToken(em, sessionId, now, nextId, expiresAt);
      await this.sessions.extend(em, sessionId, now, expiresAt);
      return { kind: 'ok' as const, pair: await this.pair(session.user_id, sessionId, next, now) };
    });

    switch (result.kind) {
      case 'ok':
        return result.pair;
      case 'reused':
        throw IdentityErrors.refreshTokenReused();
      case 'expired':
        throw IdentityErrors.refreshTokenExpired();
      case 'ended':
        throw IdentityErrors.refreshSessionEnded();
    }
  }

  /** Revokes one of the user's sessions; false when there is no such live session. */
  async revoke(em: EntityManager | undefined, userId: string, sessionId: string, reason: SessionRevokeReason): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    return this.sessions.revokeOwn(em ?? this.dataSource.manager, userId, sessionId, reason, this.clock.now());
  }

  /** Revokes every live session of the user except `keep` (when given); returns how many. */
  revokeAll(em: EntityManager, userId: string, reason: SessionRevokeReason, keep?: string): Promise<number> {
    return this.sessions.revokeAllOf(em, userId, keep ?? null, reason, this.clock.now());
  }

  async list(userId: string, currentSessionId: string) {
    const rows = await this.sessions.listLive(this.dataSource, userId, this.clock.now());
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
  markReauthenticated(sessionId: string): Promise<void> {
    return this.sessions.markReauthenticated(this.dataSource, sessionId, this.clock.now());
  }

  /**
   * The caller behind an access token, or null when its session has ended: read for every request,
   * never cached (a revoked session is refused at once, on every node). The checks that arrive while
   * the event loop reads its sockets are answered by one statement, sent when it has read them all
   * (setImmediate): one round trip for all of them, none of them waiting for another.
   */
  principal(userId: string, sessionId: string): Promise<Principal | null> {
    if (!isUuid(userId) || !isUuid(sessionId)) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      if (this.waiting.push({ userId, sessionId, now: this.clock.now(), resolve, reject }) === 1) setImmediate(() => void this.check());
    });
  }

  private async check(): Promise<void> {
    const batch = this.waiting.splice(0);
    const parts = this.hooks.profileParts;
    try {
      const rows = await this.sessions.principals(
        this.dataSource,
        batch,
        parts.map((p) => p.sql),
      );
      const found = new Array<Principal | null>(batch.length).fill(null);
      for (const row of rows) {
        const profile = Object.assign({}, ...parts.map((p, i) => p.view(row[`p${i}`])));
        const user = { ...toUserRecord(row), sessionId: batch[row.n - 1].sessionId, profile };
        found[row.n - 1] = { user, reauthenticatedAt: row.reauthenticated_at };
      }
      batch.forEach((b, i) => b.resolve(found[i]));
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  }

  private async insertRefreshToken(em: EntityManager, sessionId: string, now: Date, id: string, expiresAt: Date): Promise<string> {
    const token = newOpaqueToken();
    await this.sessions.insertRefreshToken(em, id, sessionId, hashToken(token), now, expiresAt);
    return token;
  }

  /**
   * A refresh keeps the session alive for the refresh-token lifetime, but never past SESSION_MAX_DAYS
   * after sign-in: then the user signs in again (and the login guard sees them again).
   */
  private refreshExpiry(now: Date, sessionCreatedAt: Date): Date {
    const sliding = addDays(now, this.config.refreshTokenTtlDays);
    const absolute = addDays(sessionCreatedAt, this.config.security.sessionMaxDays);
    return sliding < absolute ? sliding : absolute;
  }

  /** Access tokens are dated by the business clock, and checked against it (see AccessGuard). */
  private async pair(userId: string, sessionId: string, refreshToken: string, now: Date): Promise<TokenPair> {
    const iat = Math.floor(now.getTime() / SECOND_MS);
    const ttl = this.config.accessTokenTtlSeconds;
    const accessToken = await this.jwt.signAsync({ sub: userId, sid: sessionId, iat, exp: iat + ttl });
    return { accessToken, refreshToken, expiresIn: ttl, sessionId };
  }
}
