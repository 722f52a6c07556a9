import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { FraudService } from '../../fraud/fraud.service';
import { DisputeRestrictionsService } from '../disputes/dispute-restrictions.service';
import { PaymentsErrors } from '../payments.errors';
import type { ChargeDetails } from '../stripe/stripe.gateway';
import { PurchaseSettlementService } from './purchase-settlement.service';
import { PurchaseSignal, transition } from './purchase-state';
import type { PurchaseRecord } from './purchase.record';
import { entitlement } from './settlement';
import { TokenPurchasesRepository } from './token-purchases.repository';

export interface SignalContext {
  paymentIntentId?: string | null;
  amount?: { cents: bigint; currency: string } | null;
  charge?: ChargeDetails | null;
}

/**
 * Applies what Stripe reported to a purchase, in the caller's transaction and under the purchase's
 * row lock: the status machine, then the ledger (so the buyer holds what is due), then the account
 * restriction and fraud outcomes of a dispute. Each step is idempotent, so any order and any repetition of
 * events ends in the same place.
 */
@Injectable()
export class PurchaseSignalsService {
  constructor(
    private readonly purchases: TokenPurchasesRepository,
    private readonly settlement: PurchaseSettlementService,
    private readonly restrictions: DisputeRestrictionsService,
    private readonly fraud: FraudService,
    private readonly clock: Clock,
  ) {}

  async apply(em: EntityManager, p: PurchaseRecord, signal: PurchaseSignal, ctx: SignalContext = {}): Promise<PurchaseRecord> {
    this.assertSamePayment(p, ctx);
    const t = transition(
      { status: p.status, refundedCents: p.refundedCents, dispute: p.disputeId ? { id: p.disputeId, status: p.disputeStatus! } : null },
      signal,
    );
    const due = entitlement({ ...p, status: t.status, refundedCents: t.refundedCents });
    const settled = await this.settlement.settle(em, p, due, reasonOf(signal));
    const failed = signal.kind === 'payment_failed' && t.status === 'failed' ? signal : null;
    const updated = await this.purchases.applyChange(
      em,
      p.id,
      {
        status: t.status,
        refundedCents: t.refundedCents,
        dispute: t.dispute,
        settled,
        paid: t.paid,
        paymentIntentId: ctx.paymentIntentId ?? null,
        failure: failed && { code: failed.code, message: failed.message },
        charge: ctx.charge ?? null,
      },
      this.clock.now(),
    );

    if (signal.kind === 'dispute_opened' || signal.kind === 'dispute_won' || signal.kind === 'dispute_lost') {
      const dispute = { userId: p.userId, purchaseId: p.id, disputeId: signal.disputeId };
      if (t.restriction === 'impose') await this.restrictions.impose(em, dispute);
      if (t.restriction === 'lift') await this.restrictions.lift(em, dispute);
      for (const kind of t.outcomes) {
        await this.fraud.recordLabel(em, {
          userId: p.userId,
          kind,
          reference: `stripe_dispute:${signal.disputeId}:${kind}`,
          subjectId: p.id,
          data: { disputeId: signal.disputeId },
        });
      }
    }
    return updated;
  }

  /** An event about another payment, amount or currency than the purchase's is never applied. */
  private assertSamePayment(p: PurchaseRecord, ctx: SignalContext): void {
    if (ctx.paymentIntentId && p.paymentIntentId && ctx.paymentIntentId !== p.paymentIntentId) {
      throw PaymentsErrors.otherPaymentIntent(p.id, p.paymentIntentId, ctx.paymentIntentId);
    }
    if (ctx.amount && (ctx.amount.cents !== p.priceCents || ctx.amount.currency.toUpperCase() !== p.currency)) {
      throw PaymentsErrors.otherAmount(p.id, { cents: p.priceCents, currency: p.currency }, ctx.amount);
    }
  }
}

function reasonOf(signal: PurchaseSignal): string {
  return signal.kind === 'refunded' ? (signal.full ? 'refund' : 'partial_refund') : signal.kind;
}
