import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { AppError, invalidState } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { AccountHolds, HoldView, SystemHold } from './account-holds';
import { SecurityEventsService } from './security-events.service';

export type { SystemHold } from './account-holds';

/** Ways value leaves an account (buying for oneself is not one of them and is never checked here). */
export type ValueAction =
  'credit_transfer' | 'item_gift' | 'reseller_confirm' | 'bond_release' | 'payout' | (string & NonNullable<unknown>);

export type CoolingReason = 'password_reset' | 'email_change' | 'totp_disabled' | 'new_device';

export interface AccountGuardState {
  onHold: boolean;
  frozen: boolean;
  /** When a requested unfreeze takes effect. */
  unfreezeAt: string | null;
  coolingUntil: string | null;
  coolingReason: CoolingReason | null;
  twoFactorEnabled: boolean;
}

/** What admins see after placing or releasing a hold: the state and every active hold. */
export interface AdminHoldsView extends AccountGuardState {
  holds: HoldView[];
}

interface StateRow {
  on_hold: boolean;
  frozen_at: Date | null;
  unfreeze_at: Date | null;
  cooling_until: Date | null;
  cooling_reason: CoolingReason | null;
  totp: boolean;
}

/**
 * Whether value may leave an account: holds (an admin's, and system holds such as disputes'), the
 * owner's freeze, and cooling periods after security-relevant changes. `assertMayMoveValue` is what every outgoing-value path calls.
 */
@Injectable()
export class AccountGuardService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly events: SecurityEventsService,
    private readonly holds: AccountHolds,
  ) {}

  /**
   * Throws 423 ACCOUNT_ON_HOLD, ACCOUNT_FROZEN or COOLING_PERIOD_ACTIVE (with `until`), in that order.
   * Pass the caller's manager to read inside its transaction.
   */
  async assertMayMoveValue(userId: string, action: ValueAction, em?: EntityManager): Promise<void> {
    const s = await this.read(userId, em);
    if (s.on_hold) throw new AppError('ACCOUNT_ON_HOLD', 'This account is on hold; contact support', { action });
    if (s.frozen_at !== null) {
      throw new AppError('ACCOUNT_FROZEN', 'This account is frozen; no value can leave it', {
        action,
        unfreezeAt: s.unfreeze_at?.toISOString() ?? null,
      });
    }
    if (s.cooling_until !== null) {
      throw new AppError('COOLING_PERIOD_ACTIVE', 'A recent security change pauses outgoing value for a while', {
        action,
        until: s.cooling_until.toISOString(),
        reason: s.cooling_reason,
      });
    }
  }

  async state(userId: string, em?: EntityManager): Promise<AccountGuardState> {
    const s = await this.read(userId, em);
    return {
      onHold: s.on_hold,
      frozen: s.frozen_at !== null,
      unfreezeAt: s.unfreeze_at?.toISOString() ?? null,
      coolingUntil: s.cooling_until?.toISOString() ?? null,
      coolingReason: s.cooling_reason,
      twoFactorEnabled: s.totp,
    };
  }

  /** Starts a cooling period of the configured length, in the caller's transaction. */
  async startCooling(em: EntityManager, userId: string, reason: CoolingReason): Promise<void> {
    const p = this.config.security;
    const hours = {
      password_reset: p.coolingPasswordResetHours,
      email_change: p.coolingEmailChangeHours,
      totp_disabled: p.coolingTotpDisabledHours,
      new_device: p.coolingNewDeviceHours,
    }[reason];
    if (hours <= 0) return;
    const now = this.clock.now();
    await em.query('INSERT INTO cooling_periods (user_id, reason, starts_at, ends_at) VALUES ($1, $2, $3, $4)', [
      userId,
      reason,
      now,
      new Date(now.getTime() + hours * 3600_000),
    ]);
  }

  /** Takes effect at once; freezing again cancels a pending unfreeze. */
  async freeze(userId: string, ip: string): Promise<AccountGuardState> {
    return this.tx.run(async (em) => {
      const now = this.clock.now();
      await em.query(
        `INSERT INTO account_freezes (user_id, frozen_at, unfreeze_at) VALUES ($1, $2, NULL)
         ON CONFLICT (user_id) DO UPDATE SET
           frozen_at = CASE WHEN account_freezes.unfreeze_at IS NULL OR account_freezes.unfreeze_at > $2
                            THEN account_freezes.frozen_at ELSE $2 END,
           unfreeze_at = NULL`,
        [userId, now],
      );
      await this.events.record(em, userId, 'account_frozen', { ip });
      return this.state(userId, em);
    });
  }

  /** The account stays frozen for the configured delay (24 h), so a thief cannot unfreeze and drain at once. */
  async requestUnfreeze(userId: string, ip: string): Promise<AccountGuardState> {
    return this.tx.run(async (em) => {
      const now = this.clock.now();
      const rows = await queryRows<{ unfreeze_at: Date }>(
        em,
        `UPDATE account_freezes SET unfreeze_at = COALESCE(unfreeze_at, $2)
         WHERE user_id = $1 AND (unfreeze_at IS NULL OR unfreeze_at > $3) RETURNING unfreeze_at`,
        [userId, new Date(now.getTime() + this.config.security.unfreezeDelayHours * 3600_000), now],
      );
      if (!rows.length) throw invalidState('The account is not frozen');
      await this.events.record(em, userId, 'unfreeze_requested', { ip, data: { unfreezeAt: rows[0].unfreeze_at.toISOString() } });
      return this.state(userId, em);
    });
  }

  /** An admin's hold (at most one active per account, beside any system holds). */
  async placeHold(actorId: string, userId: string, reason: string): Promise<AdminHoldsView> {
    return this.tx.run(async (em) => {
      await this.holds.placeAdmin(em, actorId, userId, reason);
      return this.adminView(em, userId);
    });
  }

  /** Releases the hold named by `reference` (`admin` for the admins' hold), or every active hold without one. */
  async releaseHold(actorId: string, userId: string, reason: string, reference?: string): Promise<AdminHoldsView> {
    return this.tx.run(async (em) => {
      await this.holds.releaseByAdmin(em, actorId, userId, reason, reference);
      return this.adminView(em, userId);
    });
  }

  /**
   * Places a hold named by `reference` (e.g. `dispute:<id>`) in the caller's transaction, so it commits
   * with the change that caused it. A reference names one hold for good: placing it again, while active
   * or after its release, changes nothing and answers false.
   */
  placeSystemHold(em: EntityManager, hold: SystemHold): Promise<boolean> {
    return this.holds.placeSystem(em, hold);
  }

  /**
   * Releases only the active hold with `reference`, in the caller's transaction; other holds (an
   * admin's, other disputes') stay. False when there is none (never placed, or already released).
   */
  releaseSystemHold(em: EntityManager, hold: SystemHold): Promise<boolean> {
    return this.holds.releaseSystem(em, hold);
  }

  private async adminView(em: EntityManager, userId: string): Promise<AdminHoldsView> {
    return { ...(await this.state(userId, em)), holds: await this.holds.active(em, userId) };
  }

  private async read(userId: string, em?: EntityManager): Promise<StateRow> {
    const now = this.clock.now();
    const rows = await queryRows<StateRow>(
      em ?? this.dataSource,
      `SELECT
         EXISTS (SELECT 1 FROM account_holds WHERE user_id = $1 AND released_at IS NULL) AS on_hold,
         f.frozen_at, f.unfreeze_at,
         c.ends_at AS cooling_until, c.reason AS cooling_reason,
         EXISTS (SELECT 1 FROM totp_credentials WHERE user_id = $1 AND confirmed_at IS NOT NULL) AS totp
       FROM (SELECT 1) AS one
       LEFT JOIN account_freezes f ON f.user_id = $1 AND (f.unfreeze_at IS NULL OR f.unfreeze_at > $2)
       LEFT JOIN LATERAL (
         SELECT ends_at, reason FROM cooling_periods WHERE user_id = $1 AND starts_at <= $2 AND ends_at > $2
         ORDER BY ends_at DESC LIMIT 1
       ) c ON true`,
      [userId, now],
      { prepare: true },
    );
    return rows[0];
  }
}
