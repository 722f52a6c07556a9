import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { AuthUser } from '../../common/auth.decorators';
import { Clock } from '../../common/clock.service';
import { TransactionRunner } from '../../database/transaction-runner';
import { TokenPackagesService } from '../packages/token-packages.service';
import { PaymentsErrors } from '../payments.errors';
import { StripeGateway } from '../stripe/stripe.gateway';
import { BuyingPolicy } from './buying.policy';
import { PurchaseSignalsService } from './purchase-signals.service';
import { PurchaseRecord, PurchaseView, purchaseView } from './purchase.record';
import { TokenPurchasesRepository } from './token-purchases.repository';

export interface CreatedPurchase {
  id: string;
  status: PurchaseRecord['status'];
  paymentIntentId: string;
  clientSecret: string;
}

/** Buying a token package, reading a purchase, and refunding one (admin). */
@Injectable()
export class TokenPurchasesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly purchases: TokenPurchasesRepository,
    private readonly packages: TokenPackagesService,
    private readonly gateway: StripeGateway,
    private readonly signals: PurchaseSignalsService,
    private readonly buying: BuyingPolicy,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * Records the purchase first (one per user and Idempotency-Key), then asks Stripe for a
   * PaymentIntent outside any transaction. A request re-run after a failure finds the same row and
   * makes the same Stripe call with the same Stripe idempotency key, so it gets the same intent.
   */
  async create(user: AuthUser, idempotencyKey: string, packageId: string): Promise<CreatedPurchase> {
    await this.buying.assertMayBuy(user.id);
    const purchase = await this.tx.run(async (em) => {
      const pkg = await this.packages.get(em, packageId);
      if (!pkg.active) throw PaymentsErrors.packageNotOnSale();
      const inserted = await this.purchases.insert(
        em,
        {
          id: randomUUID(),
          userId: user.id,
          idempotencyKey,
          packageId: pkg.id,
          priceCents: pkg.priceCents,
          currency: pkg.currency,
          credits: pkg.credits,
          bonusPromo: pkg.bonusPromo,
        },
        this.clock.now(),
      );
      if (inserted) return inserted;
      const found = (await this.purchases.findByIdempotencyKey(em, user.id, idempotencyKey))!;
      if (found.packageId !== pkg.id) throw PaymentsErrors.idempotencyKeyReused();
      return found;
    });

    const pi = await this.gateway.createPaymentIntent({
      purchaseId: purchase.id,
      userId: user.id,
      packageId: purchase.packageId,
      amountCents: purchase.priceCents,
      currency: purchase.currency,
      description: `Bazaar: ${purchase.credits} credits`,
    });
    await this.purchases.setPaymentIntent(this.dataSource, purchase.id, pi.id, this.clock.now());
    return { id: purchase.id, status: purchase.status, paymentIntentId: pi.id, clientSecret: pi.clientSecret };
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
   * `charge.refunded` webhook that follows finds nothing left to do.
   */
  async refund(admin: AuthUser, id: string, reason: string): Promise<PurchaseView> {
    const p = await this.purchases.find(this.dataSource, id);
    if (!p) throw PaymentsErrors.purchaseNotFound();
    if (p.status !== 'succeeded' || !p.paymentIntentId) throw PaymentsErrors.notRefundable(p.status);
    const refund = await this.gateway.refundPayment({ purchaseId: p.id, paymentIntentId: p.paymentIntentId });
    if (refund.status === 'failed' || refund.status === 'canceled') throw PaymentsErrors.refundNotMade(refund.id, refund.status);
    const charge = p.chargeId ? await this.gateway.retrieveCharge(p.chargeId) : null;
    const refundedCents = charge?.amountRefunded ?? p.refundedCents + refund.amount;
    return this.tx.run(async (em) => {
      const locked = (await this.purchases.lock(em, id))!;
      const updated = await this.signals.apply(
        em,
        locked,
        { kind: 'refunded', refundedCents, full: charge?.fullyRefunded ?? refundedCents >= p.priceCents },
        { paymentIntentId: p.paymentIntentId, charge },
      );
      await this.audit.record(em, {
        actorId: admin.id,
        action: 'token_purchase.refund',
        subjectType: 'token_purchase',
        subjectId: id,
        reason,
        data: { refundId: refund.id, refundedCents: refundedCents.toString(), userId: p.userId },
      });
      return purchaseView(updated, true);
    });
  }
}
