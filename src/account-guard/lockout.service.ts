import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { addDays, addSeconds, secondsUntil } from '../common/time';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { AccountGuardErrors } from './account-guard.errors';
import { lockoutAfter } from './lockout.policy';
import { LockoutRepository } from './lockout.repository';
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

/** How long settled attempts and idle counters are kept. */
const RETENTION_DAYS = 30;

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
    private readonly lockouts: LockoutRepository,
    private readonly events: SecurityEventsService,
  ) {}

  /** Refuses (429 RATE_LIMITED, 423 ACCOUNT_LOCKED) or records a pending attempt. */
  before(a: CheckAttempt): Promise<LockoutTicket> {
    const p = this.config.security;
    return this.tx.run(async (em) => {
      const now = this.clock.now();
      // Per IP (its throttle scope, see networks.sql.ts), then per email: every check of either queues here briefly.
      await this.lockouts.lockScopes(em, a.ip, a.email);
      const throttled = await this.lockouts.throttledSince(em, a.ip, addDays(now, -1), now, p.ipFailedLoginsPerDay);
      if (throttled) throw AccountGuardErrors.networkThrottled(secondsUntil(addDays(throttled, 1), now));
      const lock = await this.lockouts.findLockout(em, a.email);
      if (lock?.locked_until_reset) throw AccountGuardErrors.lockedUntilReset();
      if (lock?.locked_until && lock.locked_until > now) throw AccountGuardErrors.lockedUntil(lock.locked_until);
      const failures = await this.lockouts.chargeFailure(em, a.email, now);
      const decision = lockoutAfter(failures, p);
      if (decision.untilReset || decision.lockSeconds > 0) {
        await this.lockouts.setLock(em, a.email, decision.untilReset ? null : addSeconds(now, decision.lockSeconds), decision.untilReset);
      }
      const attemptId = await this.lockouts.insertPendingAttempt(em, { occurredAt: now, purpose: a.purpose, email: a.email, ip: a.ip });
      return { attemptId, failures };
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
      await this.lockouts.settleAttempt(em, ticket.attemptId, outcome.ok ? 'success' : 'failure', outcome.userId);
      if (outcome.ok && a.purpose === 'login') {
        await this.lockouts.takeBackCharge(em, a.email, this.clock.now());
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
  forgive(em: EntityManager, email: string): Promise<void> {
    return this.lockouts.resetFailures(em, email, this.clock.now());
  }

  /** A password reset unlocks the account, including a lock "until reset". */
  clear(em: EntityManager, email: string): Promise<void> {
    return this.lockouts.deleteLockout(em, email);
  }

  /** Drops settled attempts and idle counters older than 30 days (periodic job). */
  async prune(now: Date): Promise<void> {
    const cutoff = addDays(now, -RETENTION_DAYS);
    await this.tx.run((em) => this.lockouts.pruneBefore(em, cutoff));
  }
}
