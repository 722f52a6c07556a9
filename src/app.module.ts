import { DynamicModule, Module, ModuleMetadata } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AccountGuardModule } from './account-guard/account-guard.module';
import { AuditModule } from './audit/audit.module';
import { CatalogModule } from './catalog/catalog.module';
import { CommonModule } from './common/common.module';
import { ProblemFilter } from './common/problem.filter';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { DevModule } from './dev/dev.module';
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
  HealthModule,
];

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["stripe-signature"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.refreshToken',
  '*.accessToken',
  '*.code',
  '*.secret',
  '*.totp',
  '*.deviceToken',
  '*.challengeId',
];

/** A request line's request and response: no query string (emailed links carry tokens there), no headers. */
const SERIALIZERS = {
  req: (req: { id: unknown; method: string; url?: string }) => ({ id: req.id, method: req.method, url: req.url?.split('?')[0] }),
  res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
};

@Module({})
export class AppModule {
  /** `logStream`: where the logs go instead of stdout (tests read them). */
  static forRoot(config: AppConfig, databaseUrl: string, logStream?: DestinationStream): DynamicModule {
    const pinoOptions = {
      level: config.logLevel,
      redact: { paths: REDACT, censor: '[redacted]' },
      serializers: SERIALIZERS,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w-]{1,100}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      autoLogging: config.logLevel !== 'silent',
    };
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({ pinoHttp: logStream ? [pinoOptions, logStream] : pinoOptions }),
        DatabaseModule.forRoot(databaseUrl, config.databasePoolSize),
        CommonModule,
        JobsModule,
        NotificationsModule,
        ...(FEATURE_MODULES ?? []),
        ...(config.devRoutes ? [DevModule, PaymentsDevModule] : []),
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
