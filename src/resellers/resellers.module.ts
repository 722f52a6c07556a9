import { Module } from '@nestjs/common';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { FraudModule } from '../fraud/fraud.module';
import { IdentityModule } from '../identity/identity.module';
import { PaymentsModule } from '../payments/payments.module';
import { AdminResellerApplicationsController } from './admin-reseller-applications.controller';
import { AdminResellersController } from './admin-resellers.controller';
import { ApplicationsController } from './applications.controller';
import { ApplicationsRepository } from './applications.repository';
import { ApplicationsService } from './applications.service';
import { CheckReportService } from './check-report.service';
import { ResellerFlagChecks } from './reseller-flag-checks';
import { ResellerFlagsJob } from './reseller-flags.job';
import { ResellerStatusService } from './reseller-status.service';
import { ResellerMailer } from './resellers.mails';
import { ResellersRepository } from './resellers.repository';
import { VettingService } from './vetting.service';
import { WholesaleController } from './wholesale.controller';

/** The reseller program (docs/resellers.md): applications and vetting, bonds, wholesale stock, escrowed orders, scorecards. */
@Module({
  imports: [IdentityModule, AccountGuardModule, FraudModule, PaymentsModule],
  controllers: [ApplicationsController, AdminResellerApplicationsController, AdminResellersController, WholesaleController],
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
  ],
})
export class ResellersModule {}
