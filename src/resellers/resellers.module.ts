import { Module } from '@nestjs/common';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { FraudModule } from '../fraud/fraud.module';
import { IdentityModule } from '../identity/identity.module';
import { LedgerModule } from '../ledger/ledger.module';
import { AdminResellerOrdersController } from './admin-reseller-orders.controller';
import { BondController } from './bond.controller';
import { BondService } from './bond.service';
import { DirectoryController } from './directory.controller';
import { OrderDisputesService } from './order-disputes.service';
import { ResellerOrderJobs } from './reseller-order-jobs.service';
import { ResellerOrderLimitsPolicy } from './reseller-order-limits.policy';
import { ResellerOrderReviews } from './reseller-order-reviews.service';
import { ResellerOrderSteps } from './reseller-order-steps.service';
import { ResellerOrdersController } from './reseller-orders.controller';
import { ResellerOrdersRepository } from './reseller-orders.repository';
import { ResellerOrdersService } from './reseller-orders.service';
import { ResellersRepository } from './resellers.repository';
import { ScorecardService } from './scorecard.service';

/** The reseller program (docs/resellers.md): applications and vetting, bonds, wholesale stock, escrowed orders, scorecards. */
@Module({
  imports: [IdentityModule, LedgerModule, AccountGuardModule, FraudModule],
  controllers: [ResellerOrdersController, AdminResellerOrdersController, BondController, DirectoryController],
  providers: [
    ResellersRepository,
    ResellerOrdersRepository,
    ResellerOrderSteps,
    ResellerOrderLimitsPolicy,
    ResellerOrdersService,
    OrderDisputesService,
    ResellerOrderReviews,
    ResellerOrderJobs,
    BondService,
    ScorecardService,
  ],
  exports: [ScorecardService],
})
export class ResellersModule {}
