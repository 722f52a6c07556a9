import { Injectable } from '@nestjs/common';
import { TransactionRunner } from '../database/transaction-runner';
import { queryRows } from '../database/sql';

const FOLD_BATCH = 500;

/**
 * Folds pending credits into their balance rows, so that reading a busy receiver's balance stays a
 * short sum. Accounts whose row is locked right now (being debited, which folds anyway) are skipped.
 */
@Injectable()
export class LedgerCompactor {
  constructor(private readonly tx: TransactionRunner) {}

  async foldPendingCredits(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.tx.run(async (em) => {
        const [{ ids }] = await queryRows<{ ids: string[] | null }>(
          em,
          `SELECT array_agg(x.account_id::text) AS ids FROM (
             SELECT b.account_id FROM ledger_balances b
              WHERE b.account_id IN (SELECT DISTINCT c.account_id FROM ledger_pending_credits c)
              ORDER BY b.account_id LIMIT $1 FOR NO KEY UPDATE SKIP LOCKED) x`,
          [FOLD_BATCH],
        );
        if (!ids) return 0;
        await em.query('SELECT ledger_fold($1::bigint[])', [ids]);
        return ids.length;
      });
      total += n;
      if (n < FOLD_BATCH) return total;
    }
  }
}
