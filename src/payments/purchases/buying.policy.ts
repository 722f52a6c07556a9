import { Injectable } from '@nestjs/common';
import { AccountGuardService } from '../../account-guard/account-guard.service';
import { PaymentsErrors } from '../payments.errors';

/**
 * Who may buy tokens: anyone whose account is not on hold (an admin's hold, or a dispute's
 * restriction). Cooling periods and freezes guard value leaving the account, and debt is repaid by
 * buying, so neither stops a purchase.
 */
@Injectable()
export class BuyingPolicy {
  constructor(private readonly guard: AccountGuardService) {}

  async assertMayBuy(userId: string): Promise<void> {
    if ((await this.guard.state(userId)).onHold) throw PaymentsErrors.accountOnHold();
  }
}
