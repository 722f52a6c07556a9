import { Injectable } from '@nestjs/common';
import { TransactionRunner } from '../database/transaction-runner';
import { LedgerBalancesRepository } from './ledger-balances.repository';

const FOLD_BATCH = 500;

/**
 * Folds pending credits into their balance rows, so that reading a busy receiver's balance stays a
 * short sum. Accounts whose row is locked right now (being debited, which folds anyway) are skipped.
 */
@Injectable()
export class LedgerCompactorService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly balances: LedgerBalancesRepository,
  ) {}

  async foldPendingCredits(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.tx.run(async (em) => {
        const ids = await this.balances.lockFoldable(em, FOLD_BATCH);
        if (!ids.length) return 0;
        await this.balances.fold(em, ids);
        return ids.length;
      });
      total += n;
      if (n < FOLD_BATCH) return total;
    }
  }
}
