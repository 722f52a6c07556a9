import { Injectable } from '@nestjs/common';
import { LedgerService, userAccount } from '../ledger/ledger.service';

/** Page size when walking a wallet's history back to the start of the window. */
const PAGE = 200;

/**
 * Credits a user bought recently: the `mint` postings into their CREDIT wallet (what the payments
 * module posts when a token purchase succeeds) since a business-clock time, read newest first from
 * the ledger's history. Clawbacks are not netted out, which can only make the gift rule stricter.
 */
@Injectable()
export class RecentPurchases {
  constructor(private readonly ledger: LedgerService) {}

  async creditsBoughtSince(userId: string, since: Date): Promise<bigint> {
    let total = 0n;
    let cursor: string | undefined;
    for (;;) {
      const page = await this.ledger.accountHistory(userAccount(userId, 'CREDIT', 'wallet'), { limit: PAGE, cursor });
      for (const line of page.items) {
        if (line.createdAt < since) return total;
        if (line.kind === 'mint' && line.amount > 0n) total += line.amount;
      }
      if (!page.nextCursor) return total;
      cursor = page.nextCursor;
    }
  }
}
