import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

/**
 * Credits a user bought recently: the `mint` postings into their CREDIT wallet (what the payments
 * module posts when a token purchase succeeds). Clawbacks are not netted out, which can only make the
 * gift rule stricter.
 *
 * A read of the ledger's tables, the one outside src/ledger: the gift rule needs it in the gift's
 * transaction, after the wallet is locked (read before, a mint committing in between would look
 * giftable), and the ledger's history reads run on connections of their own, which a transaction must
 * not wait for (the pool can run dry). It moves into the ledger once the ledger reads in a caller's
 * transaction.
 */
@Injectable()
export class RecentPurchasesRepository {
  async creditsBoughtSince(em: EntityManager, userId: string, since: Date): Promise<bigint> {
    const [{ bought }] = await queryRows<{ bought: string }>(
      em,
      `SELECT coalesce(sum(p.amount), 0)::text AS bought
         FROM ledger_accounts a
         JOIN ledger_postings p ON p.account_id = a.id AND p.amount > 0
         JOIN ledger_entries e ON e.id = p.entry_id
        WHERE a.owner_id = $1 AND a.asset = 'CREDIT' AND a.name = 'wallet' AND e.kind = 'mint' AND e.created_at >= $2`,
      [userId, since],
    );
    return BigInt(bought);
  }
}
