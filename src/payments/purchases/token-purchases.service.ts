import { Injectable } from '@nestjs/common';
import { SpendingPolicy } from '../../account-guard/spending.policy';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { AuthUser } from '../../common/auth.decorators';
import { Clock } from '../../common/clock.service';
import { IdempotencyService, IdempotentReplay, IdempotentRequest } from '../../common/idempotency/idempotency.service';
import { AppConfig } from '../../config/app-config';
import { TokenPackagesService } from '../packages/token-packages.service';
import { PaymentsErrors } from '../payments.errors';
import { PurchaseClient, PurchaseScreeningService } from '../screening/purchase-screening.service';
import { StripeGateway } from '../stripe/stripe.gateway';
import { PurchaseDestination } from './purchase-destination';
import { PurchaseRefundsService } from './purchase-refunds.service';
import { PurchaseSignalsService } from './purchase-signals.service';
import { termsOf } from './purchase-terms';
import { PurchaseRecord, PurchaseView, purchaseView } from './purchase.record';
import { TokenPurchasesRepository } from './token-purchases.repository';

export interface CreatedPurchase {
  id: string;
  status: PurchaseRecord['status'];
  paymentIntentId: string;
  clientSecret: string;
}

/**
 * The id of the purchase a user's request with an Idempotency-Key makes: a UUID (version 8, RFC 9562)
 * from sha256 of `token_purchase:<user>:<key>`, so every attempt of one request asks Stripe for its
 * PaymentIntent under the same Stripe idempotency key.
 */
export function purchaseIdFor(userId: string, key: string): string {
  const h = createHash('sha256').update(`token_purchase:${userId}:${key}`).digest();
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Buying a token package, reading a purchase, and refunding one (admin). */
@Injectable()
export class TokenPurchasesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly idempotency: IdempotencyService,
    private readonly purchases: TokenPurchasesRepository,
    private readonly packages: TokenPackagesService,
    private readonly gateway: StripeGateway,
    private readonly signals: PurchaseSignalsService,
    private readonly screening: PurchaseScreeningService,
    private readonly refunds: PurchaseRefundsService,
    private readonly spending: SpendingPolicy,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  /** POST /token-purchases: a public package, into the wallet. */
  create(
    user: AuthUser,
    packageId: string,
    client: PurchaseClient,
    request: IdempotentRequest,
  ): Promise<CreatedPurchase | IdempotentReplay> {
    return this.buy(user, packageId, 'wallet', client, request);
  }

  /**
   * Buys a package into `destination`: a public package into the wallet at its price, or a reseller
   * package into reseller stock at the wholesale price (termsOf); a package of the other audience is
   * 404 like an unknown one. Everything after is the same path, whatever the destination.
   *
   * The fraud check of the request comes first, stored in a transaction of its own
   * (PurchaseScreeningService.screenRequest: a block is 403 FRAUD_BLOCKED and nothing else happens).
   * Then Stripe is asked for the PaymentIntent, outside any transaction, under a Stripe idempotency key
   * derived from the request's key (`purchaseIdFor`): a retry after a failure, or a duplicate at the
   * same time, gets the same PaymentIntent, and the same key with another package is refused
   * (IDEMPOTENCY_KEY_REUSED). Then the purchase is recorded, with its PaymentIntent, in the
   * transaction that claims the key. Stripe's events about the intent come after the client confirms
   * it with the client secret, so after that commit.
   */
  async buy(
    user: AuthUser,
    packageId: string,
    destination: PurchaseDestination,
    client: PurchaseClient,
    request: IdempotentRequest,
  ): Promise<CreatedPurchase | IdempotentReplay> {
    await this.spending.assertMayBuyCredits(user.id);
    const audience = destination === 'wallet' ? 'public' : 'reseller';
    const pkg = await this.packages.forSale(this.dataSource, packageId, audience);
    const terms = termsOf(pkg, destination, this.config.resellers.wholesaleDiscountPercent);
    const id = purchaseIdFor(user.id, request.key);
    const replay = await this.screening.screenRequest(user, terms, id, client, request);
    if (replay) return replay;
    const pi = await this.gateway.createPaymentIntent({
      purchaseId: id,
      userId: user.id,
      packageId: pkg.id,
      amountCents: terms.priceCents,
      currency: terms.currency,
      description: `Bazaar: ${terms.credits} credits${destination === 'wallet' ? '' : ' (wholesale)'}`,
    });
    return this.idempotency.run(request, async (em) => {
      const purchase = await this.purchases.insert(
        em,
        { ...terms, id, userId: user.id, idempotencyKey: request.key, paymentIntentId: pi.id },
        this.clock.now(),
      );
      return { id, status: purchase.status, paymentIntentId: pi.id, clientSecret: pi.clientSecret };
    });
  }

  /** Owners and admins only; anyone else gets the same 404 as for a purchase that does not exist. */
  async view(user: AuthUser, id: string): Promise<PurchaseView> {
    const p = await this.purchases.find(this.dataSource, id);
    const admin = user.roles.includes('admin');
    if (!p || (p.userId !== user.id && !admin)) throw PaymentsErrors.purchaseNotFound();
    return purchaseView(p, admin);
  }

  /**
   * Refunds what is left of the payment through Stripe and claws the credits back at once; the
   * `charge.refunded` webhook that follows finds nothing left to do. The Stripe refund is idempotent
   * per purchase (PurchaseRefundsService); the clawback runs in the transaction that claims the
   * request's key, and only while the purchase is still `succeeded`: of concurrent refunds with
   * different keys, one moves money.
   */
  async refund(admin: AuthUser, id: string, reason: string, request: IdempotentRequest): Promise<PurchaseView | IdempotentReplay> {
    const p = await this.purchases.find(this.dataSource, id);
    if (!p) throw PaymentsErrors.purchaseNotFound();
    if (p.status !== 'succeeded' || !p.paymentIntentId) throw PaymentsErrors.notRefundable(p.status);
    const { refundId, signal, ctx } = await this.refunds.refundAtStripe(p);
    return this.idempotency.run(request, async (em) => {
      const locked = (await this.purchases.lock(em, id))!;
      if (locked.status !== 'succeeded') throw PaymentsErrors.notRefundable(locked.status);
      const updated = await this.signals.apply(em, locked, signal, ctx);
      await this.audit.record(em, {
        actorId: admin.id,
        action: 'token_purchase.refund',
        subjectType: 'token_purchase',
        subjectId: id,
        reason,
        data: { refundId, refundedCents: updated.refundedCents.toString(), userId: p.userId },
      });
      return purchaseView(updated, true);
    });
  }
}
