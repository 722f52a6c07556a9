import { Global, Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AppConfig } from '../config/app-config';
import { DebtService } from './debt/debt.service';
import { FraudOutcomesService } from './fraud-outcomes/fraud-outcomes.service';
import { DisputeHolds } from './holds/dispute-holds.service';
import { AdminTokenPackagesController } from './packages/admin-token-packages.controller';
import { TokenPackagesController } from './packages/token-packages.controller';
import { TokenPackagesService } from './packages/token-packages.service';
import { PaymentsService } from './payments.service';
import { AdminTokenPurchasesController } from './purchases/admin-token-purchases.controller';
import { PurchaseSettlement } from './purchases/purchase-settlement.service';
import { PurchaseSignals } from './purchases/purchase-signals.service';
import { TokenPurchasesController } from './purchases/token-purchases.controller';
import { TokenPurchasesService } from './purchases/token-purchases.service';
import { StripeConnection } from './stripe/stripe-connection';
import { StripeGateway } from './stripe/stripe.gateway';
import { StripeEventsService } from './webhooks/stripe-events.service';
import { StripeWebhookController } from './webhooks/stripe-webhook.controller';

/**
 * Buying tokens with Stripe: packages, purchases, webhooks, refunds, disputes and clawbacks.
 * Global so that spending paths can ask `PaymentsService.assertNoDebt`.
 */
@Global()
@Module({
  controllers: [
    TokenPackagesController,
    AdminTokenPackagesController,
    TokenPurchasesController,
    AdminTokenPurchasesController,
    StripeWebhookController,
  ],
  providers: [
    {
      provide: StripeConnection,
      useFactory: (config: AppConfig, adapterHost: HttpAdapterHost) => StripeConnection.create(config, adapterHost),
      inject: [AppConfig, HttpAdapterHost],
    },
    StripeGateway,
    TokenPackagesService,
    TokenPurchasesService,
    PurchaseSettlement,
    PurchaseSignals,
    StripeEventsService,
    DebtService,
    FraudOutcomesService,
    DisputeHolds,
    PaymentsService,
  ],
  // StripeConnection: for the sandbox's dev routes (PaymentsDevModule).
  exports: [PaymentsService, StripeConnection],
})
export class PaymentsModule {}
