import { Module } from '@nestjs/common';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { FraudModule } from '../fraud/fraud.module';
import { IdentityModule } from '../identity/identity.module';
import { PaymentsModule } from '../payments/payments.module';
import { LedgerModule } from '../ledger/ledger.module';
import { AdminResellerApplicationsController } from './vetting/admin-reseller-applications.controller';
import { AdminResellerOrdersController } from './orders/admin-reseller-orders.controller';
import { AdminResellersController } from './lifecycle/admin-resellers.controller';
import { ApplicationsController } from './vetting/applications.controller';
import { ApplicationsRepository } from './vetting/applications.repository';
import { ApplicationsService } from './vetting/applications.service';
import { BondController } from './bond/bond.controller';
import { BondService } from './bond/bond.service';
import { CheckReportService } from './vetting/check-report.service';
import { DirectoryController } from './scorecard/directory.controller';
import { OrderDisputesService } from './orders/order-disputes.service';
import { ResellerFlagChecks } from './lifecycle/reseller-flag-checks';
import { ResellerFlagsJob } from './lifecycle/reseller-flags.job';
import { ResellerOrderJobs } from './orders/reseller-order-jobs.service';
import { ResellerOrderLimitsPolicy } from './orders/reseller-order-limits.policy';
import { ResellerOrderReviews } from './orders/reseller-order-reviews.service';
import { ResellerOrderSteps } from './orders/reseller-order-steps.service';
import { ResellerOrdersController } from './orders/reseller-orders.controller';
import { ResellerOrdersRepository } from './orders/reseller-orders.repository';
import { ResellerOrdersService } from './orders/reseller-orders.service';
import { ResellerStatusService } from './lifecycle/reseller-status.service';
import { ResellerMailer } from './resellers.mails';
import { ResellersRepository } from './resellers.repository';
import { ScorecardService } from './scorecard/scorecard.service';
import { VettingService } from './vetting/vetting.service';
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
