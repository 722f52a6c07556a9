import { Module } from '@nestjs/common';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { FraudModule } from '../fraud/fraud.module';
import { IdentityModule } from '../identity/identity.module';
import { PaymentsModule } from '../payments/payments.module';
import { LedgerModule } from '../ledger/ledger.module';
import { AdminResellerApplicationsController } from './admin-reseller-applications.controller';
import { AdminResellerOrdersController } from './admin-reseller-orders.controller';
import { AdminResellersController } from './admin-resellers.controller';
import { ApplicationsController } from './applications.controller';
import { ApplicationsRepository } from './applications.repository';
import { ApplicationsService } from './applications.service';
import { BondController } from './bond.controller';
import { BondService } from './bond.service';
import { CheckReportService } from './check-report.service';
import { DirectoryController } from './directory.controller';
import { OrderDisputesService } from './order-disputes.service';
import { ResellerFlagChecks } from './reseller-flag-checks';
import { ResellerFlagsJob } from './reseller-flags.job';
import { ResellerOrderJobs } from './reseller-order-jobs.service';
import { ResellerOrderLimitsPolicy } from './reseller-order-limits.policy';
import { ResellerOrderReviews } from './reseller-order-reviews.service';
import { ResellerOrderSteps } from './reseller-order-steps.service';
import { ResellerOrdersController } from './reseller-orders.controller';
import { ResellerOrdersRepository } from './reseller-orders.repository';
import { ResellerOrdersService } from './reseller-orders.service';
import { ResellerStatusService } from './reseller-status.service';
import { ResellerMailer } from './resellers.mails';
import { ResellersRepository } from './resellers.repository';
import { ScorecardService } from './scorecard.service';
import { VettingService } from './vetting.service';
import { WholesaleController } from './wholesale.controller';

/** The reseller program (docs/resellers.md): applications and vetting, bonds, wholesale stock, escrowed orders, scorecards. */
@Module({
  imports: [IdentityModule, LedgerModule, AccountGuardModule, FraudModule, PaymentsModule],
  controllers: [
    ApplicationsController,
    AdminResellerApplicationsController,
    AdminResellersController,
    WholesaleController,
    ResellerOrdersController,
    AdminResellerOrdersController,
    BondController,
    DirectoryController,
  ],
  providers: [
    ResellersRepository,
    ApplicationsRepository,
    CheckReportService,
    ApplicationsService,
    VettingService,
    ResellerMailer,
    ResellerFlagChecks,
    ResellerStatusService,
    ResellerFlagsJob,
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
})
export class ResellersModule {}
