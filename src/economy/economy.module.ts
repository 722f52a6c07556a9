import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { LedgerModule } from '../ledger/ledger.module';
import { AdminEconomyController } from './admin-economy.controller';
import { EconomyReportRepository } from './economy-report.repository';
import { EconomyReportService } from './economy-report.service';
import { EconomyRollupRepository } from './economy-rollup.repository';
import { EconomyRollupService } from './economy-rollup.service';
import { HarmBudgetsPolicy } from './harm-budgets.policy';
import { HarmBudgetsRepository } from './harm-budgets.repository';
import { HarmBudgetsService } from './harm-budgets.service';

/**
 * The economy health report and harm budgets (docs/economy.md, "Economy health"). The top layer: it reads
 * what every module records (a read-only reporting read model, EconomyReportRepository) and the ledger
 * through LedgerService; nothing imports it.
 */
@Module({
  imports: [LedgerModule, IdentityModule],
  controllers: [AdminEconomyController],
  providers: [
    EconomyReportRepository,
    EconomyReportService,
    EconomyRollupRepository,
    EconomyRollupService,
    HarmBudgetsPolicy,
    HarmBudgetsRepository,
    HarmBudgetsService,
  ],
})
export class EconomyModule {}
