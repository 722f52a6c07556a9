import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import type { AuthUser } from '../../common/auth.decorators';
import { Clock } from '../../common/clock.service';
import { AppError, invalidState, notFound } from '../../common/errors';
import { queryRows } from '../../database/sql';
import { TransactionRunner } from '../../database/transaction-runner';
import { DisputeHolds } from '../holds/dispute-holds.service';
import { TokenPackagesService } from '../packages/token-packages.service';
import { StripeGateway } from '../stripe/stripe.gateway';
import { PurchaseSignals } from './purchase-signals.service';
import { loadPurchase, PurchaseRecord, PurchaseView, purchaseView, toPurchaseRecord } from './purchase.record';

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
    private readonly packages: TokenPackagesService,
    private readonly gateway: StripeGateway,
    private readonly signals: PurchaseSignals,
    private readonly holds: DisputeHolds,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  /**
   * Records the purchase first (one per user and Idempotency-Key), then asks Stripe for a
   * PaymentIntent outside any transaction. A request re-run after a failure finds the same row and
   * makes the same Stripe call with the same Stripe idempotency key, so it gets the same intent.
   */
  async create(user: AuthUser, idempotencyKey: string, packageId: string): Promise<CreatedPurchase> {
    await this.holds.assertMayBuy(user.id);
    const purchase = await this.tx.run(async (em) => {
      const pkg = await this.packages.get(em, packageId);
      if (!pkg.active) throw invalidState('This token package is not on sale');
      const now = this.clock.now();
      const inserted = await queryRows(
        em,
        `INSERT INTO token_purchases (id, user_id, idempotency_key, package_id, price_cents, currency, credits, bonus_promo, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING *`,
        [
          randomUUID(),
          user.id,
          idempotencyKey,
          pkg.id,
          pkg.priceCents.toString(),
          pkg.currency,
          pkg.credits.toString(),
          pkg.bonusPromo.toString(),
          now,
        ],
      );
      if (inserted[0]) return toPurchaseRecord(inserted[0]);
      const [existing] = await queryRows(em, 'SELECT * FROM token_purchases WHERE user_id = $1 AND idempotency_key = $2', [
        user.id,
        idempotencyKey,
      ]);
      const found = toPurchaseRecord(existing);
      if (found.packageId !== pkg.id) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for another package');
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
    await this.dataSource.query(
      `UPDATE token_purchases SET payment_intent_id = $2, updated_at = $3 WHERE id = $1 AND payment_intent_id IS NULL`,
      [purchase.id, pi.id, this.clock.now()],
    );
    return { id: purchase.id, status: purchase.status, paymentIntentId: pi.id, clientSecret: pi.clientSecret };
  }

  /** Owners and admins only; anyone else gets the same 404 as for a purchase that does not exist. */
  async view(user: AuthUser, id: string): Promise<PurchaseView> {
    const p = await loadPurchase(this.dataSource, id);
    const admin = user.roles.includes('admin');
    if (!p || (p.userId !== user.id && !admin)) throw notFound('Token purchase');
    return purchaseView(p, admin);
  }

  /**
   * Refunds what is left of the payment through Stripe and claws the credits back at once; the
   * `charge.refunded` webhook that follows finds nothing left to do.
   */
  async refund(admin: AuthUser, id: string, reason: string): Promise<PurchaseView> {
    const p = await loadPurchase(this.dataSource, id);
    if (!p) throw notFound('Token purchase');
    if (p.status !== 'succeeded' || !p.paymentIntentId)
      throw invalidState(`Only a succeeded purchase can be refunded; this one is ${p.status}`);
    const refund = await this.gateway.refundPayment({ purchaseId: p.id, paymentIntentId: p.paymentIntentId });
    if (refund.status === 'failed' || refund.status === 'canceled') {
      throw new AppError('UPSTREAM_UNAVAILABLE', `Stripe did not refund the payment (refund ${refund.id} is ${refund.status})`);
    }
    const charge = p.chargeId ? await this.gateway.retrieveCharge(p.chargeId) : null;
    const refundedCents = charge?.amountRefunded ?? p.refundedCents + refund.amount;
    return this.tx.run(async (em) => {
      const locked = (await loadPurchase(em, id, true))!;
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
