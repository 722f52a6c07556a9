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
  async assertMaySpend(userId: string): Promise<void> {
    if ((await this.guard.state(userId)).onHold) throw new AppError('ACCOUNT_ON_HOLD', 'This account is on hold; contact support');
    await this.payments.assertNoDebt(undefined, userId);
  }

  /** Value leaving the account for another user (item gifts, credit transfers). */
  async assertMayMoveValue(userId: string, action: 'item_gift' | 'credit_transfer'): Promise<void> {
    await this.guard.assertMayMoveValue(userId, action);
    await this.payments.assertNoDebt(undefined, userId);
  }
}
