import { Injectable } from '@nestjs/common';
import { LedgerService } from '../ledger/ledger.service';
import { AccountGuardErrors } from './account-guard.errors';
import { AccountGuardService } from './account-guard.service';

/**
 * Account-state checks before a user spends (API.md: authentication → validation → re-authentication →
 * account state → limits → fraud → funds). Buying for oneself stays allowed during cooling periods and
 * a freeze (they guard value leaving the account); an account hold and CREDIT debt stop all spending,
 * PROMO debt stops spending PROMO (PROMO grants repay it: docs/payments.md, "Debt").
 *
 * Call these before opening the spending transaction: they read committed state on connections of
 * their own, and a transaction waiting for a second pool connection can starve the pool under load.
 */
@Injectable()
export class SpendingPolicy {
  constructor(
    private readonly guard: AccountGuardService,
    private readonly ledger: LedgerService,
  ) {}

  /** Spending on oneself (own purchases, submission fees); `asset` is what pays (PROMO owed stops PROMO only). */
  assertMaySpend(userId: string, asset: 'CREDIT' | 'PROMO' = 'CREDIT'): Promise<void> {
    const debt = asset === 'PROMO' ? this.assertNoDebt(userId).then(() => this.assertNoDebt(userId, 'PROMO')) : this.assertNoDebt(userId);
    return this.inOrder(this.assertNotOnHold(userId), debt);
  }

  /**
   * Buying credits with money: only an account hold (an admin's, or a payment dispute's) stops it.
   * Cooling periods and freezes guard value leaving the account, and debt is repaid by buying.
   */
  assertMayBuyCredits(userId: string): Promise<void> {
    return this.assertNotOnHold(userId);
  }

  /** Value leaving the account for another user (item gifts, credit transfers). */
  assertMayMoveValue(userId: string, action: 'item_gift' | 'credit_transfer'): Promise<void> {
    return this.inOrder(this.guard.assertMayMoveValue(userId, action), this.assertNoDebt(userId));
  }

  private async assertNotOnHold(userId: string): Promise<void> {
    if ((await this.guard.state(userId)).onHold) throw AccountGuardErrors.onHold();
  }

  /**
   * 423 ACCOUNT_IN_DEBT while the user owes `asset` after a clawback could not recover everything: the
   * negative balance of their `debt` account (the payments module's; read through the ledger).
   */
  private async assertNoDebt(userId: string, asset: 'CREDIT' | 'PROMO' = 'CREDIT'): Promise<void> {
    const owed = await this.ledger.owed(userId, asset);
    if (owed > 0n) throw AccountGuardErrors.inDebt(owed, asset);
  }

  /** Both checks at once (one round trip of waiting, not two), refusing with the account state's reason first. */
  private async inOrder(accountState: Promise<void>, debt: Promise<void>): Promise<void> {
    const [state, owed] = await Promise.allSettled([accountState, debt]);
    if (state.status === 'rejected') throw state.reason;
    if (owed.status === 'rejected') throw owed.reason;
  }
}
