import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AccountGuardService } from './account-guard.service';
import { AccountHolds } from './account-holds';
import { AdminAccountGuardController } from './admin-account-guard.controller';
import { DevicesService } from './devices.service';
import { AccountGuardIntegration } from './identity-integration';
import { LockoutService } from './lockout.service';
import { MeSecurityController } from './me-security.controller';
import { SecretBox } from './secret-box';
import { SecurityEventsService } from './security-events.service';
import { StepUpController } from './step-up.controller';
import { StepUpService } from './step-up.service';
import { TotpController } from './totp.controller';
import { TotpService } from './totp.service';

/**
 * The account-takeover guard, built on identity: login defence (lockout, IP throttle), devices and
 * risk-based step-up, TOTP, re-authentication by TOTP, cooling periods, freeze, account holds (admins' and system holds) and the
 * security event history. Other modules call `AccountGuardService.assertMayMoveValue`.
 */
@Global()
@Module({
  controllers: [StepUpController, TotpController, MeSecurityController, AdminAccountGuardController],
  providers: [
    { provide: SecretBox, inject: [AppConfig], useFactory: (config: AppConfig) => new SecretBox(config.encryptionKey) },
    AccountGuardService,
    AccountHolds,
    SecurityEventsService,
    LockoutService,
    DevicesService,
    TotpService,
    StepUpService,
    AccountGuardIntegration,
  ],
  exports: [AccountGuardService],
})
export class AccountGuardModule {}
