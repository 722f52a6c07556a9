import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { throttleScopeOf } from './networks.sql';

export interface LockoutRow {
  locked_until: Date | null;
  locked_until_reset: boolean;
}

export interface NewLoginAttempt {
  occurredAt: Date;
  purpose: string;
  email: string;
  ip: string;
}

/** login_attempts (every password or code check) and login_lockouts (per-email failure counters). */
@Injectable()
export class LockoutRepository {
  /** Per IP (its throttle scope), then per email: every check of either queues here until the transaction ends. */
  async lockScopes(em: EntityManager, ip: string, email: string): Promise<void> {
    await queryRows(
      em,
      `SELECT pg_advisory_xact_lock(hashtext('login-ip:' || host(${throttleScopeOf('$1')}))), pg_advisory_xact_lock(hashtext($2))`,
      [ip, `login-email:${email.toLowerCase()}`],
    );
  }

  /**
   * With at least `limit` failed or unsettled checks from the IP's throttle scope in (since, until]:
   * the time of the limit-th newest, whose leaving the window brings the count under the limit again.
   * Undefined while under the limit.
   */
  async throttledSince(em: EntityManager, ip: string, since: Date, until: Date, limit: number): Promise<Date | undefined> {
    const rows = await queryRows<{ occurred_at: Date }>(
      em,
      `SELECT occurred_at FROM login_attempts
       WHERE ip <<= ${throttleScopeOf('$1')} AND outcome <> 'success' AND occurred_at > $2 AND occurred_at <= $3
       ORDER BY occurred_at DESC OFFSET $4 LIMIT 1`,
      [ip, since, until, limit - 1],
    );
    return rows[0]?.occurred_at;
  }

  async findLockout(em: EntityManager, email: string): Promise<LockoutRow | undefined> {
    const rows = await queryRows<LockoutRow>(em, 'SELECT locked_until, locked_until_reset FROM login_lockouts WHERE email = $1', [email]);
    return rows[0];
  }

  /** Counts one more consecutive failure; the count after. */
  async chargeFailure(em: EntityManager, email: string, now: Date): Promise<number> {
    const [{ consecutive_failures }] = await queryRows<{ consecutive_failures: number }>(
      em,
      `INSERT INTO login_lockouts (email, consecutive_failures, updated_at) VALUES ($1, 1, $2)
       ON CONFLICT (email) DO UPDATE SET consecutive_failures = login_lockouts.consecutive_failures + 1, updated_at = $2
       RETURNING consecutive_failures`,
      [email, now],
    );
    return consecutive_failures;
  }

  async setLock(em: EntityManager, email: string, lockedUntil: Date | null, untilReset: boolean): Promise<void> {
    await queryRows(em, 'UPDATE login_lockouts SET locked_until = $2, locked_until_reset = $3 WHERE email = $1', [
      email,
      lockedUntil,
      untilReset,
    ]);
  }

  /** Takes back one charged failure and lifts the lock. */
  async takeBackCharge(em: EntityManager, email: string, now: Date): Promise<void> {
    await queryRows(
      em,
      `UPDATE login_lockouts SET consecutive_failures = greatest(consecutive_failures - 1, 0), locked_until = NULL,
         locked_until_reset = false, updated_at = $2 WHERE email = $1`,
      [email, now],
    );
  }

  async resetFailures(em: EntityManager, email: string, now: Date): Promise<void> {
    await queryRows(
      em,
      'UPDATE login_lockouts SET consecutive_failures = 0, locked_until = NULL, locked_until_reset = false, updated_at = $2 WHERE email = $1',
      [email, now],
    );
  }

  async deleteLockout(em: EntityManager, email: string): Promise<void> {
    await queryRows(em, 'DELETE FROM login_lockouts WHERE email = $1', [email]);
  }

  /** Records a check as pending (it counts as a failure until settled); its id. */
  async insertPendingAttempt(em: EntityManager, a: NewLoginAttempt): Promise<string> {
    const [{ id }] = await queryRows<{ id: string | number }>(
      em,
      `INSERT INTO login_attempts (occurred_at, purpose, email, ip, outcome) VALUES ($1, $2, $3, $4, 'pending') RETURNING id`,
      [a.occurredAt, a.purpose, a.email, a.ip],
    );
    return String(id);
  }

  async settleAttempt(em: EntityManager, attemptId: string, outcome: 'success' | 'failure', userId: string | null): Promise<void> {
    await queryRows(em, 'UPDATE login_attempts SET outcome = $2, user_id = $3 WHERE id = $1', [attemptId, outcome, userId]);
  }

  /** Drops attempts, and idle counters (not locked until a reset), older than `cutoff`. */
  async pruneBefore(em: EntityManager, cutoff: Date): Promise<void> {
    await queryRows(em, `DELETE FROM login_attempts WHERE occurred_at < $1`, [cutoff]);
    await queryRows(em, `DELETE FROM login_lockouts WHERE updated_at < $1 AND NOT locked_until_reset`, [cutoff]);
  }
}
