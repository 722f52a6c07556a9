import { Injectable } from '@nestjs/common';
import { AccountGuardService } from '../account-guard/account-guard.service';
import { AppError } from '../common/errors';
import { PaymentsService } from '../payments/payments.service';

/**
 * Account-state checks before a user spends (API.md: authentication → validation → re-authentication →
 * account state → limits → fraud → funds). Buying for oneself stays allowed during cooling periods and
 * a freeze (they guard value leaving the account); an admin hold and debt stop all spending.
 *
 * Call these before opening the spending transaction: they read committed state on connections of
 * their own, and a transaction waiting for a second pool connection can starve the pool under load.
 */
@Injectable()
export class SpendingPolicy {
  constructor(
    private readonly guard: AccountGuardService,
    private readonly payments: PaymentsService,
  ) {}

  /** Spending on oneself (own purchases, submission fees). */
  assertMaySpend(userId: string): Promise<void> {
    return this.inOrder(
      this.guard.state(userId).then((s) => {
        if (s.onHold) throw new AppError('ACCOUNT_ON_HOLD', 'This account is on hold; contact support');
      }),
      this.payments.assertNoDebt(undefined, userId),
    );
  }

  /** Value leaving the account for another user (item gifts, credit transfers). */
  assertMayMoveValue(userId: string, action: 'item_gift' | 'credit_transfer'): Promise<void> {
    return this.inOrder(this.guard.assertMayMoveValue(userId, action), this.payments.assertNoDebt(undefined, userId));
  }

  /** Both checks at once (one round trip of waiting, not two), refusing with the account state's reason first. */
  private async inOrder(accountState: Promise<void>, debt: Promise<void>): Promise<void> {
    const [state, owed] = await Promise.allSettled([accountState, debt]);
    if (state.status === 'rejected') throw state.reason;
    if (owed.status === 'rejected') throw owed.reason;
  }
}
