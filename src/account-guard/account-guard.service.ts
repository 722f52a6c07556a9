import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { Clock } from '../common/clock.service';
import { AppError, invalidState, notFound } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { PgError, pgCode } from '../database/pg-errors';
import { queryRows } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { IdentityService } from '../identity/identity.service';
import { SecurityEventsService } from './security-events.service';

/** Ways value leaves an account (buying for oneself is not one of them and is never checked here). */
export type ValueAction =
  | 'credit_transfer'
  | 'item_gift'
  | 'reseller_confirm'
  | 'bond_release'
  | 'payout'
  | (string & NonNullable<unknown>);

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

interface StateRow {
  hold_reason: string | null;
  frozen_at: Date | null;
  unfreeze_at: Date | null;
  cooling_until: Date | null;
  cooling_reason: CoolingReason | null;
  totp: boolean;
}

/**
 * Whether value may leave an account: admin holds, the owner's freeze, and cooling periods after
 * security-relevant changes. `assertMayMoveValue` is what every outgoing-value path calls.
 */
@Injectable()
export class AccountGuardService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly events: SecurityEventsService,
    private readonly audit: AuditService,
    private readonly identity: IdentityService,
  ) {}

  /**
   * Throws 423 ACCOUNT_ON_HOLD, ACCOUNT_FROZEN or COOLING_PERIOD_ACTIVE (with `until`), in that order.
   * Pass the caller's manager to read inside its transaction.
   */
  async assertMayMoveValue(userId: string, action: ValueAction, em?: EntityManager): Promise<void> {
    const s = await this.read(userId, em);
    if (s.hold_reason !== null) throw new AppError('ACCOUNT_ON_HOLD', 'This account is on hold; contact support', { action });
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
      onHold: s.hold_reason !== null,
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

  async placeHold(actorId: string, userId: string, reason: string): Promise<AccountGuardState> {
    return this.tx.run(async (em) => {
      if (!(await this.identity.userExists(em, userId))) throw notFound('User');
      try {
        await em.query('INSERT INTO account_holds (user_id, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4)', [userId, reason, actorId, this.clock.now()]);
      } catch (err) {
        if (pgCode(err) === PgError.UNIQUE_VIOLATION) throw invalidState('The account is already on hold');
        throw err;
      }
      await this.audit.record(em, { actorId, action: 'account.hold_placed', subjectType: 'user', subjectId: userId, reason });
      await this.events.record(em, userId, 'account_held', { data: { reason } });
      return this.state(userId, em);
    });
  }

  async releaseHold(actorId: string, userId: string, reason: string): Promise<AccountGuardState> {
    return this.tx.run(async (em) => {
      const rows = await queryRows(
        em,
        `UPDATE account_holds SET released_at = $3, released_by = $2, release_reason = $4
         WHERE user_id = $1 AND released_at IS NULL RETURNING id`,
        [userId, actorId, this.clock.now(), reason],
      );
      if (!rows.length) {
        if (!(await this.identity.userExists(em, userId))) throw notFound('User');
        throw invalidState('The account is not on hold');
      }
      await this.audit.record(em, { actorId, action: 'account.hold_released', subjectType: 'user', subjectId: userId, reason });
      await this.events.record(em, userId, 'account_released', { data: { reason } });
      return this.state(userId, em);
    });
  }

  private async read(userId: string, em?: EntityManager): Promise<StateRow> {
    const now = this.clock.now();
    const rows: StateRow[] = await (em ?? this.dataSource.manager).query(
      `SELECT
         (SELECT reason FROM account_holds WHERE user_id = $1 AND released_at IS NULL) AS hold_reason,
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
    );
    return rows[0];
  }
}
