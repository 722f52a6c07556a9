import { AdminUserListRepository } from './admin-user-list.repository';
import { AdminUserListService } from './admin-user-list.service';
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AppConfig } from '../config/app-config';
import { IdentityModule } from '../identity/identity.module';
import { JobsModule } from '../jobs/jobs.module';
import { LedgerModule } from '../ledger/ledger.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { AccountGuardService } from './account-guard.service';
import { AccountLinksRepository } from './account-links.repository';
import { AccountHoldsRepository } from './account-holds.repository';
import { AccountHoldsService } from './account-holds.service';
import { AccountStateRepository } from './account-state.repository';
import { AdminAccountGuardController } from './admin-account-guard.controller';
import { DevicesRepository } from './devices.repository';
import { DevicesService } from './devices.service';
import { FraudSignalsRepository } from './fraud-signals.repository';
import { IdentityHooksListener } from './identity-hooks.listener';
import { LockoutRepository } from './lockout.repository';
import { LockoutService } from './lockout.service';
import { LoginScreens } from './login-screens';
import { MeSecurityController } from './me-security.controller';
import { SecretBoxService } from './secret-box.service';
import { SecurityEventsRepository } from './security-events.repository';
import { SecurityEventsService } from './security-events.service';
import { SpendingPolicy } from './spending.policy';
import { StepUpController } from './step-up.controller';
import { StepUpRepository } from './step-up.repository';
import { StepUpService } from './step-up.service';
import { TotpController } from './totp.controller';
import { TotpRepository } from './totp.repository';
import { TotpService } from './totp.service';

/**
 * The account-takeover guard, built on identity: login defence (lockout, IP throttle), devices and
 * risk-based step-up, TOTP, re-authentication by TOTP, cooling periods, freeze, account holds (admins'
 * and system holds), the security event history, and the spending policy (account state and debt).
 * Other modules call `AccountGuardService.assertMayMoveValue` and `SpendingPolicy`, and judge logins
 * through `LoginScreens`.
 */
@Module({
  imports: [IdentityModule, LedgerModule, AuditModule, NotificationsModule, JobsModule],
  controllers: [StepUpController, TotpController, MeSecurityController, AdminAccountGuardController],
  providers: [
    {
      provide: SecretBoxService,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new SecretBoxService(config.encryptionKey),
    },
    AccountStateRepository,
    AccountLinksRepository,
    AccountHoldsRepository,
    AdminUserListRepository,
    AdminUserListService,
    DevicesRepository,
    FraudSignalsRepository,
    LockoutRepository,
    SecurityEventsRepository,
    StepUpRepository,
    TotpRepository,
    AccountGuardService,
    AccountHoldsService,
    SecurityEventsService,
    LockoutService,
    DevicesService,
    LoginScreens,
    TotpService,
    StepUpService,
    SpendingPolicy,
    IdentityHooksListener,
  ],
  exports: [AccountGuardService, SpendingPolicy, LoginScreens],
})
export class AccountGuardModule {}
