import { Global, Module } from '@nestjs/common';
import { AdminLedgerController } from './admin-ledger.controller';
import { LedgerAccounts } from './ledger-accounts';
import { LedgerBalances } from './ledger-balances';
import { LedgerCompactor } from './ledger-compactor';
import { LedgerDebits } from './ledger-debits';
import { LedgerHolds } from './ledger-holds';
import { LedgerJobs } from './ledger-jobs';
import { LedgerSealer } from './ledger-sealer';
import { LedgerVerifier } from './ledger-verifier';
import { LedgerBatcher } from './ledger.batcher';
import { LedgerController } from './ledger.controller';
import { LedgerService } from './ledger.service';
import { PostingEngine } from './posting.engine';
import { PromoGrantsListener } from './promo-grants.listener';

/** The token ledger. Other modules use LedgerService only; the ledger tables are private to it. */
@Global()
@Module({
  controllers: [LedgerController, AdminLedgerController],
  providers: [
    LedgerAccounts,
    PostingEngine,
    LedgerBatcher,
    LedgerDebits,
    LedgerHolds,
    LedgerBalances,
    LedgerCompactor,
    LedgerSealer,
    LedgerVerifier,
    LedgerJobs,
    LedgerService,
    PromoGrantsListener,
  ],
  exports: [LedgerService],
})
export class LedgerModule {}
