import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountGuardModule } from './account-guard/account-guard.module';
import { AuditModule } from './audit/audit.module';
import { CatalogModule } from './catalog/catalog.module';
import { CommonModule } from './common/common.module';
import { ProblemFilter } from './common/problem.filter';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { SecretFingerprintsRepository } from './config/secret-fingerprints.repository';
import { SecretFingerprintsService } from './config/secret-fingerprints.service';
import { DatabaseModule } from './database/database.module';
import { DevModule } from './dev/dev.module';
import { EconomyModule } from './economy/economy.module';
import { FraudModule } from './fraud/fraud.module';
import { HealthModule } from './health/health.module';
import { IdentityModule } from './identity/identity.module';
import { JobsModule } from './jobs/jobs.module';
import { LedgerModule } from './ledger/ledger.module';
import { NotificationsModule } from './notifications/notifications.module';
import { OrdersModule } from './orders/orders.module';
import { PaymentsModule } from './payments/payments.module';
import { PaymentsDevModule } from './payments/sandbox/payments-dev.module';
import { PromotionsModule } from './promotions/promotions.module';
import { ResellersModule } from './resellers/resellers.module';

/** Feature modules, in dependency order (features → fraud/account-guard/audit → ledger → database). */
const FEATURE_MODULES: ModuleMetadata['imports'] = [
  AuditModule,
  IdentityModule,
  AccountGuardModule,
  LedgerModule,
  FraudModule,
  PromotionsModule,
  PaymentsModule,
  CatalogModule,
  OrdersModule,
  ResellersModule,
  EconomyModule,
  HealthModule,
];

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(databaseUrl, config.databasePoolSize),
        CommonModule,
        JobsModule,
        NotificationsModule,
        ...(FEATURE_MODULES ?? []),
        ...(config.devRoutes ? [DevModule, PaymentsDevModule] : []),
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }, SecretFingerprintsRepository, SecretFingerprintsService],
    };
  }
}
