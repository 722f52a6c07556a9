import { Injectable, OnModuleInit } from '@nestjs/common';
import { JobsService } from '../jobs/jobs.service';
import { LedgerCompactorService } from './ledger-compactor.service';
import { LedgerHoldsService } from './ledger-holds.service';
import { LedgerSealerService } from './ledger-sealer.service';

export const EXPIRE_HOLDS_JOB = 'ledger.expire-holds';
export const SEAL_JOB = 'ledger.seal';
export const FOLD_JOB = 'ledger.fold-credits';

/** The ledger's scheduled work: hold expiry (on the business clock), the hash-chain sealer, credit folding. */
@Injectable()
export class LedgerJobsService implements OnModuleInit {
  constructor(
    private readonly jobs: JobsService,
    private readonly holds: LedgerHoldsService,
    private readonly sealer: LedgerSealerService,
    private readonly compactor: LedgerCompactorService,
  ) {}

  onModuleInit(): void {
    this.jobs.registerPeriodic({ name: EXPIRE_HOLDS_JOB, run: (now) => this.holds.expire(now) });
    this.jobs.registerPeriodic({ name: SEAL_JOB, run: () => this.sealer.sealPending() });
    this.jobs.registerPeriodic({ name: FOLD_JOB, run: () => this.compactor.foldPendingCredits() });
  }
}
