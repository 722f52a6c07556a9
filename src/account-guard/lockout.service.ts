import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { AppError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { lockoutAfter } from './lockout-policy';
import { throttleScopeOf } from './networks';
import { SecurityEventsService } from './security-events.service';

export type CheckPurpose = 'login' | 'reauth' | 'password_change' | 'step_up' | 'totp';

export interface CheckAttempt {
  purpose: CheckPurpose;
  email: string;
  ip: string;
}

export interface LockoutTicket {
  attemptId: string;
  /** Consecutive failures counting this attempt (charged in advance, forgiven on success). */
  failures: number;
}

const DAY_MS = 86400_000;

/**
 * Brute-force defence shared by every process (counters in PostgreSQL): per-account progressive
 * lockout and a per-IP cap on failed checks. Each check is charged as a failure before the secret is
 * verified and forgiven if it was right, so parallel guesses cannot slip past the threshold.
 */
@Injectable()
export class LockoutService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly events: SecurityEventsService,
  ) {}

  /** Refuses (429 RATE_LIMITED, 423 ACCOUNT_LOCKED) or records a pending attempt. */
  before(a: CheckAttempt): Promise<LockoutTicket> {
    const p = this.config.security;
    return this.tx.run(async (em) => {
      const now = this.clock.now();
      // Per IP (its throttle scope, see networks.ts), then per email: every check of either queues here briefly.
      await em.query(
        `SELECT pg_advisory_xact_lock(hashtext('login-ip:' || host(${throttleScopeOf('$1')}))), pg_advisory_xact_lock(hashtext($2))`,
        [a.ip, `login-email:${a.email.toLowerCase()}`],
      );
      const [{ failures }] = await em.query(
        `SELECT count(*)::int AS failures FROM login_attempts
         WHERE ip <<= ${throttleScopeOf('$1')} AND outcome <> 'success' AND occurred_at > $2 AND occurred_at <= $3`,
        [a.ip, new Date(now.getTime() - DAY_MS), now],
      );
      if (failures >= p.ipFailedLoginsPerDay) {
        throw new AppError('RATE_LIMITED', 'Too many failed sign-ins from this network; try again later');
      }
      const locks: { locked_until: Date | null; locked_until_reset: boolean }[] = await em.query(
        'SELECT locked_until, locked_until_reset FROM login_lockouts WHERE email = $1',
        [a.email],
      );
      const lock = locks[0];
      if (lock?.locked_until_reset) {
        throw new AppError('ACCOUNT_LOCKED', 'This account is locked; reset the password to unlock it', { until: null });
      }
      if (lock?.locked_until && lock.locked_until > now) {
        throw new AppError('ACCOUNT_LOCKED', 'Too many failed attempts; try again later', { until: lock.locked_until.toISOString() });
      }
      const [{ consecutive_failures }] = await em.query(
        `INSERT INTO login_lockouts (email, consecutive_failures, updated_at) VALUES ($1, 1, $2)
         ON CONFLICT (email) DO UPDATE SET consecutive_failures = login_lockouts.consecutive_failures + 1, updated_at = $2
         RETURNING consecutive_failures`,
        [a.email, now],
      );
      const decision = lockoutAfter(consecutive_failures, p);
      if (decision.untilReset || decision.lockSeconds > 0) {
        await em.query('UPDATE login_lockouts SET locked_until = $2, locked_until_reset = $3 WHERE email = $1', [
          a.email,
          decision.untilReset ? null : new Date(now.getTime() + decision.lockSeconds * 1000),
          decision.untilReset,
        ]);
      }
      const [{ id }] = await em.query(
        `INSERT INTO login_attempts (occurred_at, purpose, email, ip, outcome) VALUES ($1, $2, $3, $4, 'pending') RETURNING id`,
        [now, a.purpose, a.email, a.ip],
      );
      return { attemptId: String(id), failures: consecutive_failures };
    });
  }

  /**
   * Settles the attempt. A right secret forgives the failures, except a login's password: that only
   * takes back its own charge, and the count is cleared when the session really starts (`forgive`), so a
   * thief who knows the password but not the second factor keeps meeting longer and longer locks.
   * A failure that starts a lock is notified.
   */
  async after(a: CheckAttempt, outcome: { ok: boolean; userId: string | null }, ticket: LockoutTicket): Promise<void> {
    const p = this.config.security;
    await this.tx.run(async (em) => {
      await em.query('UPDATE login_attempts SET outcome = $2, user_id = $3 WHERE id = $1', [
        ticket.attemptId,
        outcome.ok ? 'success' : 'failure',
        outcome.userId,
      ]);
      if (outcome.ok && a.purpose === 'login') {
        await em.query(
          `UPDATE login_lockouts SET consecutive_failures = greatest(consecutive_failures - 1, 0), locked_until = NULL,
             locked_until_reset = false, updated_at = $2 WHERE email = $1`,
          [a.email, this.clock.now()],
        );
        return;
      }
      if (outcome.ok) {
        await this.forgive(em, a.email);
        return;
      }
      const startsLock = ticket.failures === p.lockoutThreshold || ticket.failures === p.lockoutHardLimit;
      if (outcome.userId && startsLock) {
        const decision = lockoutAfter(ticket.failures, p);
        await this.events.record(em, outcome.userId, 'account_locked', {
          ip: a.ip,
          data: { failures: ticket.failures, untilPasswordReset: decision.untilReset, lockSeconds: decision.lockSeconds },
        });
      }
    });
  }

  /** Runs a check (a TOTP or emailed code) under the same counters as a password. */
  async guard(a: CheckAttempt, userId: string, check: () => Promise<boolean>): Promise<boolean> {
    const ticket = await this.before(a);
    let ok = false;
    try {
      ok = await check();
    } finally {
      await this.after(a, { ok, userId }, ticket);
    }
    return ok;
  }

  /** The account was signed in to (or proved its second factor): the failure count starts again. */
  async forgive(em: EntityManager, email: string): Promise<void> {
    await em.query(
      'UPDATE login_lockouts SET consecutive_failures = 0, locked_until = NULL, locked_until_reset = false, updated_at = $2 WHERE email = $1',
      [email, this.clock.now()],
    );
  }

  /** A password reset unlocks the account, including a lock "until reset". */
  async clear(em: EntityManager, email: string): Promise<void> {
    await em.query('DELETE FROM login_lockouts WHERE email = $1', [email]);
  }

  /** Drops settled attempts and idle counters older than 30 days (periodic job). */
  async prune(now: Date): Promise<void> {
    const cutoff = new Date(now.getTime() - 30 * DAY_MS);
    await this.tx.run(async (em) => {
      await em.query(`DELETE FROM login_attempts WHERE occurred_at < $1`, [cutoff]);
      await em.query(`DELETE FROM login_lockouts WHERE updated_at < $1 AND NOT locked_until_reset`, [cutoff]);
    });
  }
}
