import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { addHours } from '../common/time';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { AccountGuardErrors } from './account-guard.errors';
import { AccountHoldsService, AccountHoldView, SystemAccountHold } from './account-holds.service';
import { AccountLinksRepository } from './account-links.repository';
import { AccountStateRepository, AccountStateRow, CoolingReason } from './account-state.repository';
import { FraudSignalsQuery, FraudSignalsRepository } from './fraud-signals.repository';
import { SecurityEventsService, SecurityEventView } from './security-events.service';
import { TotpRepository } from './totp.repository';

export type { SystemAccountHold } from './account-holds.service';
export type { CoolingReason } from './account-state.repository';
export type { FraudSignalsQuery } from './fraud-signals.repository';
export type { SecurityEventView } from './security-events.service';

/** Another account tied to a user by a shared device cluster or login network (`value`: the cluster id or the network). */
export interface LinkedAccount {
  userId: string;
  via: 'device' | 'ip';
  value: string;
}

/** What the account guard holds against an account (empty: nothing). */
export interface AccountFlag {
  kind: 'account_hold' | 'frozen' | 'refresh_token_reuse';
  detail: string;
}

/** A device first used in this many hours (and not the account's first) counts as new for the fraud rules. */
const NEW_DEVICE_HOURS = 24;

export interface FraudSignals {
  twoFactorEnabled: boolean;
  lastPasswordResetAt: Date | null;
  deviceId: string | null;
  deviceIsNew: boolean;
  networkIsNew: boolean;
}

/** Ways value leaves an account (buying for oneself is not one of them and is never checked here). */
export type ValueAction =
  'credit_transfer' | 'item_gift' | 'reseller_confirm' | 'bond_release' | 'payout' | (string & NonNullable<unknown>);

export interface AccountGuardState {
  onHold: boolean;
  frozen: boolean;
  /** When a requested unfreeze takes effect. */
  unfreezeAt: string | null;
  coolingUntil: string | null;
  coolingReason: CoolingReason | null;
  twoFactorEnabled: boolean;
}

function stateView(s: AccountStateRow): AccountGuardState {
  return {
    onHold: s.on_hold,
    frozen: s.frozen_at !== null,
    unfreezeAt: s.unfreeze_at?.toISOString() ?? null,
    coolingUntil: s.cooling_until?.toISOString() ?? null,
    coolingReason: s.cooling_reason,
    twoFactorEnabled: s.totp,
  };
}

/** What admins see after placing or releasing an account hold: the state and every active hold. */
export interface AdminAccountHoldsView extends AccountGuardState {
  holds: AccountHoldView[];
}

/**
 * Whether value may leave an account: account holds (an admin's, and system holds such as disputes'), the
 * owner's freeze, and cooling periods after security-relevant changes. `assertMayMoveValue` is what every outgoing-value path calls.
 */
@Injectable()
export class AccountGuardService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly accountState: AccountStateRepository,
    private readonly events: SecurityEventsService,
    private readonly accountHolds: AccountHoldsService,
    private readonly signals: FraudSignalsRepository,
    private readonly links: AccountLinksRepository,
    private readonly totp: TotpRepository,
  ) {}

  /**
   * Throws 423 ACCOUNT_ON_HOLD, ACCOUNT_FROZEN or COOLING_PERIOD_ACTIVE (with `until`), in that order.
   * Pass the caller's manager to read inside its transaction.
   */
  async assertMayMoveValue(userId: string, action: ValueAction, em?: EntityManager): Promise<void> {
    const s = await this.read(userId, em);
    if (s.on_hold) throw AccountGuardErrors.onHold(action);
    if (s.frozen_at !== null) throw AccountGuardErrors.frozen(action, s.unfreeze_at?.toISOString() ?? null);
    if (s.cooling_until !== null) throw AccountGuardErrors.cooling(action, s.cooling_until.toISOString(), s.cooling_reason);
  }

  async state(userId: string, em?: EntityManager): Promise<AccountGuardState> {
    return stateView(await this.read(userId, em));
  }

  /** The state as a column of another statement (`user`, `now`: its SQL expressions), and its value as `state` answers it. */
  stateColumn(user: string, now: string): { sql: string; view: (value: unknown) => AccountGuardState } {
    return {
      sql: this.accountState.stateColumn(user, now),
      view: (value) => stateView(this.accountState.stateOfJson(value as Record<string, unknown>)),
    };
  }

  /**
   * The account guard's facts the fraud rules read (2FA, last password reset, the session's device and
   * its novelty, network novelty), for several requests at once, in the caller's transaction.
   */
  async fraudSignals(em: EntityManager, queries: FraudSignalsQuery[]): Promise<FraudSignals[]> {
    const rows = await this.signals.read(em, queries, addHours(this.clock.now(), -NEW_DEVICE_HOURS));
    return rows.map((r) => ({
      twoFactorEnabled: r.two_factor_enabled,
      lastPasswordResetAt: r.last_password_reset_at,
      deviceId: r.device_id,
      deviceIsNew: r.device_is_new,
      networkIsNew: r.network_is_new,
    }));
  }

  /** When 2FA (a confirmed authenticator) was turned on, or null when it is off. */
  twoFactorEnabledSince(userId: string, em?: EntityManager): Promise<Date | null> {
    return this.totp.confirmedAt(em ?? this.dataSource, userId);
  }

  /** The account's newest security events, newest first. */
  async recentSecurityEvents(userId: string, limit: number): Promise<SecurityEventView[]> {
    return (await this.events.list(userId, { limit })).items;
  }

  /** Other accounts sharing a device cluster or a login network with the user (at most `limit`). */
  async linkedAccounts(userId: string, limit: number, em?: EntityManager): Promise<LinkedAccount[]> {
    const rows = await this.links.linked(em ?? this.dataSource, userId, limit);
    return rows.map((r) => ({ userId: r.user_id, via: r.via, value: r.value }));
  }

  /**
   * The account guard's flags on each account: active account holds and a freeze in force (now), and
   * refresh-token reuse (a stolen session) after the account's `since`. Accounts without any are absent.
   */
  async flags(em: EntityManager, users: { userId: string; since: Date }[]): Promise<Map<string, AccountFlag[]>> {
    if (!users.length) return new Map();
    const rows = await this.links.flags(em, users, this.clock.now());
    const flagged = rows.map((r): [string, AccountFlag[]] => [
      r.user_id,
      [
        ...r.holds.map((detail) => ({ kind: 'account_hold' as const, detail })),
        ...(r.frozen ? [{ kind: 'frozen' as const, detail: 'frozen by its owner' }] : []),
        ...(r.token_reuses ? [{ kind: 'refresh_token_reuse' as const, detail: `${r.token_reuses} reused refresh token(s)` }] : []),
      ],
    ]);
    return new Map(flagged.filter(([, f]) => f.length > 0));
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
    await this.accountState.insertCooling(em, userId, reason, now, addHours(now, hours));
  }

  /** Takes effect at once; freezing again cancels a pending unfreeze. */
  async freeze(userId: string, ip: string): Promise<AccountGuardState> {
    return this.tx.run(async (em) => {
      await this.accountState.freeze(em, userId, this.clock.now());
      await this.events.record(em, userId, 'account_frozen', { ip });
      return this.state(userId, em);
    });
  }

  /** The account stays frozen for the configured delay (24 h), so a thief cannot unfreeze and drain at once. */
  async requestUnfreeze(userId: string, ip: string): Promise<AccountGuardState> {
    return this.tx.run(async (em) => {
      const now = this.clock.now();
      const unfreezeAt = await this.accountState.scheduleUnfreeze(em, userId, addHours(now, this.config.security.unfreezeDelayHours), now);
      if (!unfreezeAt) throw AccountGuardErrors.notFrozen();
      await this.events.record(em, userId, 'unfreeze_requested', { ip, data: { unfreezeAt: unfreezeAt.toISOString() } });
      return this.state(userId, em);
    });
  }

  /** An admin's account hold (at most one active per account, beside any system holds). */
  async placeHold(actorId: string, userId: string, reason: string): Promise<AdminAccountHoldsView> {
    return this.tx.run(async (em) => {
      await this.accountHolds.placeAdmin(em, actorId, userId, reason);
      return this.adminView(em, userId);
    });
  }

  /** Releases the account hold named by `reference` (`admin` for the admins' hold), or every active one without it. */
  async releaseHold(actorId: string, userId: string, reason: string, reference?: string): Promise<AdminAccountHoldsView> {
    return this.tx.run(async (em) => {
      await this.accountHolds.releaseByAdmin(em, actorId, userId, reason, reference);
      return this.adminView(em, userId);
    });
  }

  /**
   * Places an account hold named by `reference` (e.g. `dispute:<id>`) in the caller's transaction, so it
   * commits with the change that caused it. A reference names one hold for good: placing it again, while
   * active or after its release, changes nothing and answers false.
   */
  placeSystemHold(em: EntityManager, hold: SystemAccountHold): Promise<boolean> {
    return this.accountHolds.placeSystem(em, hold);
  }

  /**
   * Releases only the active account hold with `reference`, in the caller's transaction; other holds (an
   * admin's, other disputes') stay. False when there is none (never placed, or already released).
   */
  releaseSystemHold(em: EntityManager, hold: SystemAccountHold): Promise<boolean> {
    return this.accountHolds.releaseSystem(em, hold);
  }

  private async adminView(em: EntityManager, userId: string): Promise<AdminAccountHoldsView> {
    return { ...(await this.state(userId, em)), holds: await this.accountHolds.active(em, userId) };
  }

  private read(userId: string, em?: EntityManager): Promise<AccountStateRow> {
    return this.accountState.read(em ?? this.dataSource, userId, this.clock.now());
  }
}
