import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { addHours } from '../../common/time';
import { TransactionRunner } from '../../database/transaction-runner';
import { JobsService } from '../../jobs/jobs.service';
import { PaymentsErrors } from '../payments.errors';
import { StripeGateway } from '../stripe/stripe.gateway';
import { FRAUD_REFUND_QUEUE, PurchaseSignalsService, refundDue, SignalContext } from './purchase-signals.service';
import type { PurchaseSignal } from './purchase-state';
import type { PurchaseRecord } from './purchase.record';
import { TokenPurchasesRepository } from './token-purchases.repository';

const SWEEP_AFTER_HOURS = 1;

/**
 * Refunds through Stripe: the admin route's (TokenPurchasesService.refund) and those of purchases the
 * fraud checks refused, queued by the refusing transaction and made by a job. Both ask Stripe with the
 * one idempotency key of the purchase's refund (`token_purchase:<id>:refund`), so a retried job, a
 * second job or an admin refund of the same purchase never refunds twice, and then apply the refund
 * like its webhook would. A refund the job could not make (Stripe down past its retries) is queued
 * again by a periodic sweep.
 */
@Injectable()
export class PurchaseRefundsService implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly tx: TransactionRunner,
    private readonly purchases: TokenPurchasesRepository,
    private readonly gateway: StripeGateway,
    private readonly signals: PurchaseSignalsService,
    private readonly jobs: JobsService,
  ) {}

  onModuleInit(): void {
    this.jobs.registerQueue<{ purchaseId: string }>({
      name: FRAUD_REFUND_QUEUE,
      retryLimit: 10,
      handle: (data) => this.refundRefused(data.purchaseId),
    });
    this.jobs.registerPeriodic({ name: 'payments.requeue-fraud-refunds', cron: '*/15 * * * *', run: (now) => this.requeueDue(now) });
  }

  /**
   * Refunds what is left of the payment at Stripe, outside any transaction; answers the `refunded`
   * signal that refund makes (what Stripe reports refunded on the charge, when the purchase knows it).
   */
  async refundAtStripe(p: PurchaseRecord): Promise<{ refundId: string; signal: PurchaseSignal; ctx: SignalContext }> {
    const paymentIntentId = p.paymentIntentId!;
    const refund = await this.gateway.refundPayment({ purchaseId: p.id, paymentIntentId });
    if (refund.status === 'failed' || refund.status === 'canceled') throw PaymentsErrors.refundNotMade(refund.id, refund.status);
    const charge = p.chargeId ? await this.gateway.retrieveCharge(p.chargeId) : null;
    const refundedCents = charge?.amountRefunded ?? p.refundedCents + refund.amount;
    return {
      refundId: refund.id,
      signal: { kind: 'refunded', refundedCents, full: charge?.fullyRefunded ?? refundedCents >= p.priceCents },
      ctx: { paymentIntentId, charge },
    };
  }

  /** The queued refund of a refused purchase; nothing when it is refunded already (or disputed). */
  async refundRefused(purchaseId: string): Promise<void> {
    const p = await this.purchases.find(this.dataSource, purchaseId);
    if (!p || !refundDue(p)) return;
    const { signal, ctx } = await this.refundAtStripe(p);
    await this.tx.run(async (em) => {
      const locked = (await this.purchases.lock(em, purchaseId))!;
      await this.signals.apply(em, locked, signal, ctx);
    });
  }

  async requeueDue(now: Date): Promise<number> {
    const ids = await this.purchases.refundsDue(this.dataSource, addHours(now, -SWEEP_AFTER_HOURS));
    for (const purchaseId of ids) await this.jobs.enqueue(FRAUD_REFUND_QUEUE, { purchaseId });
    return ids.length;
  }
}
