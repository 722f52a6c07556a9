import { Module } from '@nestjs/common';
import { AdminLedgerController } from './admin-ledger.controller';
import { LedgerAccountsRepository } from './ledger-accounts.repository';
import { LedgerAccountsService } from './ledger-accounts.service';
import { LedgerBalancesRepository } from './ledger-balances.repository';
import { LedgerBalancesService } from './ledger-balances.service';
import { LedgerChainRepository } from './ledger-chain.repository';
import { LedgerCompactorService } from './ledger-compactor.service';
import { LedgerDebitsService } from './ledger-debits.service';
import { LedgerEntriesRepository } from './ledger-entries.repository';
import { LedgerHoldsRepository } from './ledger-holds.repository';
import { LedgerHoldsService } from './ledger-holds.service';
import { LedgerJobsService } from './ledger-jobs.service';
import { LedgerSupplyRepository } from './ledger-supply.repository';
import { LedgerSupplyService } from './ledger-supply.service';
import { LedgerSealerService } from './ledger-sealer.service';
import { LedgerVerifierService } from './ledger-verifier.service';
import { LedgerController } from './ledger.controller';
import { LedgerService } from './ledger.service';
import { PostingEngineService } from './posting-engine.service';

/** The token ledger. Other modules use LedgerService only; the ledger tables are private to it. */
@Module({
  controllers: [LedgerController, AdminLedgerController],
  providers: [
    LedgerAccountsRepository,
    LedgerEntriesRepository,
    LedgerBalancesRepository,
    LedgerHoldsRepository,
    LedgerChainRepository,
    LedgerSupplyRepository,
    LedgerAccountsService,
    PostingEngineService,
    LedgerDebitsService,
    LedgerHoldsService,
    LedgerBalancesService,
    LedgerCompactorService,
    LedgerSealerService,
    LedgerVerifierService,
    LedgerSupplyService,
    LedgerJobsService,
    LedgerService,
  ],
  exports: [LedgerService],
})
export class LedgerModule {}
