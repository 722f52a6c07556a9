import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../common/errors';
import { LedgerService } from '../ledger/ledger.service';
import { AccountGuardErrors } from './account-guard.errors';
import { AccountGuardService } from './account-guard.service';
import { AccountHoldsRepository } from './account-holds.repository';
import { sideBySide } from '../database/side-by-side';

type SpendAsset = 'CREDIT' | 'PROMO';

/**
 * Account-state checks before a user spends (API.md: authentication → validation → re-authentication →
 * account state → limits → fraud → funds). Buying for oneself stays allowed during cooling periods and
 * a freeze (they guard value leaving the account); an account hold and CREDIT debt stop all spending,
 * PROMO debt stops spending PROMO (PROMO grants repay it: docs/payments.md, "Debt").
 *
 * The single checks read committed state on connections of their own: call them before opening the
 * spending transaction (a transaction waiting for a second pool connection can starve the pool under
 * load). `spendRefusals` reads in the caller's transaction, for a batch.
 */
@Injectable()
export class SpendingPolicy {
  constructor(
    private readonly dataSource: DataSource,
    private readonly guard: AccountGuardService,
    private readonly holds: AccountHoldsRepository,
    private readonly ledger: LedgerService,
  ) {}

  /** Spending on oneself (own purchases, submission fees); `asset` is what pays (PROMO owed stops PROMO only). */
  async assertMaySpend(userId: string, asset: SpendAsset = 'CREDIT'): Promise<void> {
    const [refused] = await this.spendRefusals(undefined, [{ userId, asset }]);
    if (refused) throw refused;
  }

  /**
   * `assertMaySpend` for several spends at once (in `em`'s transaction, or without one on connections
   * of their own): the account holds and the debts of all of them in one statement each; a spend
   * answered with its refusal (the account hold's first, then CREDIT debt, then PROMO debt) or undefined.
   * A `gift` (an item bought for someone else) moves value out of the account: the account guard's
   * checks of `assertMayMoveValue` instead of the hold's, one statement per gift.
   */
  async spendRefusals(
    em: EntityManager | undefined,
    spends: { userId: string; asset: SpendAsset; gift?: boolean }[],
  ): Promise<(AppError | undefined)[]> {
    if (!spends.length) return [];
    const debts: { userId: string; asset: SpendAsset }[] = [];
    const checks = spends.map(({ userId, asset }) => {
      const first = debts.length;
      debts.push({ userId, asset: 'CREDIT' });
      if (asset === 'PROMO') debts.push({ userId, asset });
      return { first, end: debts.length };
    });
    const own = [...new Set(spends.filter((s) => !s.gift).map((s) => s.userId))];
    const [onHold, owed, guarded] = await sideBySide([
      own.length ? this.holds.withActive(em ?? this.dataSource, own) : new Set<string>(),
      this.ledger.owedMany(em, debts),
      sideBySide(
        spends.map((s) => (s.gift ? this.guard.assertMayMoveValue(s.userId, 'item_gift', em).then(() => undefined, refusalOf) : undefined)),
      ),
    ]);
    return spends.map((s, k) => {
      if (guarded[k]) return guarded[k];
      if (!s.gift && onHold.has(s.userId)) return AccountGuardErrors.onHold();
      for (let i = checks[k].first; i < checks[k].end; i++) if (owed[i] > 0n) return AccountGuardErrors.inDebt(owed[i], debts[i].asset);
      return undefined;
    });
  }

  /**
   * Buying credits with money: only an account hold (an admin's, or a payment dispute's) stops it.
   * Cooling periods and freezes guard value leaving the account, and debt is repaid by buying.
   */
  async assertMayBuyCredits(userId: string): Promise<void> {
    if ((await this.holds.withActive(this.dataSource, [userId])).has(userId)) throw AccountGuardErrors.onHold();
  }

  /** Value leaving the account for another user (item gifts, credit transfers); refusing with the account state's reason first. */
  async assertMayMoveValue(userId: string, action: 'item_gift' | 'credit_transfer'): Promise<void> {
    const [state, owed] = await Promise.allSettled([this.guard.assertMayMoveValue(userId, action), this.ledger.owed(userId, 'CREDIT')]);
    if (state.status === 'rejected') throw state.reason;
    if (owed.status === 'rejected') throw owed.reason;
    if (owed.value > 0n) throw AccountGuardErrors.inDebt(owed.value, 'CREDIT');
  }
}

/** An AppError as the refusal it is; anything else goes on failing. */
function refusalOf(err: unknown): AppError {
  if (err instanceof AppError) return err;
  throw err;
}
