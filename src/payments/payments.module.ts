import { AdminPurchaseListService } from './purchases/admin-purchase-list.service';
import { AdminTokenPurchasesRepository } from './purchases/admin-token-purchases.repository';
import { Module } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AccountGuardModule } from '../account-guard/account-guard.module';
import { AuditModule } from '../audit/audit.module';
import { FraudModule } from '../fraud/fraud.module';
import { AppConfig } from '../config/app-config';
import { LedgerModule } from '../ledger/ledger.module';
import { DisputeRestrictionsService } from './disputes/dispute-restrictions.service';
import { PaymentsHistoryService } from './history/payments-history.service';
import { PurchaseHistoryRepository } from './history/purchase-history.repository';
import { AdminTokenPackagesController } from './packages/admin-token-packages.controller';
import { TokenPackagesController } from './packages/token-packages.controller';
import { TokenPackagesRepository } from './packages/token-packages.repository';
import { TokenPackagesService } from './packages/token-packages.service';
import { AdminTokenPurchasesController } from './purchases/admin-token-purchases.controller';
import { PurchaseRefundsService } from './purchases/purchase-refunds.service';
import { PurchaseSettlementService } from './purchases/purchase-settlement.service';
import { PurchaseSignalsService } from './purchases/purchase-signals.service';
import { TokenPurchasesController } from './purchases/token-purchases.controller';
import { TokenPurchasesRepository } from './purchases/token-purchases.repository';
import { TokenPurchasesService } from './purchases/token-purchases.service';
import { PurchaseReviewsService } from './screening/purchase-reviews.service';
import { PurchaseScreeningService } from './screening/purchase-screening.service';
import { ScreeningsRepository } from './screening/screenings.repository';
import { SandboxStripeRepository } from './sandbox/sandbox-stripe.repository';
import { StripeConnection } from './stripe/stripe.connection';
import { StripeGateway } from './stripe/stripe.gateway';
import { StripeEventsRepository } from './webhooks/stripe-events.repository';
import { StripeEventsService } from './webhooks/stripe-events.service';
import { StripeWebhookController } from './webhooks/stripe-webhook.controller';
import { WholesalePurchasesService } from './wholesale/wholesale-purchases.service';

/**
 * Buying tokens with Stripe: packages, purchases, webhooks, refunds, disputes and clawbacks, and the
 * fraud checks of purchases (screening/: the request before its PaymentIntent, the payment when it
 * succeeds, the review holds and how reviews finish). Resellers buy wholesale packages into their
 * reseller stock through the same path (wholesale/, for the resellers module's routes), and read
 * purchase histories (history/).
 */
@Module({
  imports: [LedgerModule, AccountGuardModule, AuditModule, FraudModule],
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
      useFactory: (config: AppConfig, adapterHost: HttpAdapterHost, store: SandboxStripeRepository) =>
        StripeConnection.create(config, adapterHost, store),
      inject: [AppConfig, HttpAdapterHost, SandboxStripeRepository],
    },
    SandboxStripeRepository,
    StripeGateway,
    TokenPackagesRepository,
    TokenPackagesService,
    TokenPurchasesRepository,
    TokenPurchasesService,
    AdminPurchaseListService,
    AdminTokenPurchasesRepository,
    PurchaseSettlementService,
    PurchaseSignalsService,
    PurchaseRefundsService,
    ScreeningsRepository,
    PurchaseScreeningService,
    PurchaseReviewsService,
    StripeEventsRepository,
    StripeEventsService,
    DisputeRestrictionsService,
    WholesalePurchasesService,
    PurchaseHistoryRepository,
    PaymentsHistoryService,
  ],
  // StripeConnection: for the sandbox's dev routes (PaymentsDevModule); the others for the resellers module.
  exports: [StripeConnection, WholesalePurchasesService, PaymentsHistoryService],
})
export class PaymentsModule {}
