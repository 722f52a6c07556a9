import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { invalidState } from '../../common/errors';
import { queryRows } from '../../database/sql';
import { FraudOutcomesService } from '../fraud-outcomes/fraud-outcomes.service';
import { DisputeHolds } from '../holds/dispute-holds.service';
import type { ChargeDetails } from '../stripe/stripe.gateway';
import { PurchaseSettlement } from './purchase-settlement.service';
import { PurchaseSignal, transition } from './purchase-state';
import { PurchaseRecord, toPurchaseRecord } from './purchase.record';
import { entitlement } from './settlement';

export interface SignalContext {
  paymentIntentId?: string | null;
  amount?: { cents: bigint; currency: string } | null;
  charge?: ChargeDetails | null;
}

/**
 * Applies what Stripe reported to a purchase, in the caller's transaction and under the purchase's
 * row lock: the status machine, then the ledger (so the buyer holds what is due), then the account
 * hold and fraud outcomes of a dispute. Each step is idempotent, so any order and any repetition of
 * events ends in the same place.
 */
@Injectable()
export class PurchaseSignals {
  constructor(
    private readonly settlement: PurchaseSettlement,
    private readonly holds: DisputeHolds,
    private readonly outcomes: FraudOutcomesService,
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
    const now = this.clock.now();
    const failed = signal.kind === 'payment_failed' && t.status === 'failed' ? signal : null;
    const c = ctx.charge;
    const [row] = await queryRows(
      em,
      `UPDATE token_purchases SET
         status = $2, refunded_cents = $3, dispute_id = $4, dispute_status = $5,
         granted_credits = $6, granted_promo = $7, clawed_earnings = $8, ledger_ops = $9,
         paid_at = CASE WHEN $10 THEN COALESCE(paid_at, $11) ELSE paid_at END,
         payment_intent_id = COALESCE(payment_intent_id, $12),
         failure_code = CASE WHEN $13 THEN $14 ELSE failure_code END,
         failure_message = CASE WHEN $13 THEN $15 ELSE failure_message END,
         charge_id = COALESCE(charge_id, $16), card_fingerprint = COALESCE(card_fingerprint, $17),
         card_country = COALESCE(card_country, $18), risk_score = COALESCE(risk_score, $19),
         updated_at = $11
       WHERE id = $1 RETURNING *`,
      [
        p.id,
        t.status,
        t.refundedCents.toString(),
        t.dispute?.id ?? null,
        t.dispute?.status ?? null,
        settled.grantedCredits.toString(),
        settled.grantedPromo.toString(),
        settled.clawedEarnings.toString(),
        settled.ledgerOps,
        t.paid,
        now,
        ctx.paymentIntentId ?? null,
        failed !== null,
        failed?.code ?? null,
        failed?.message ?? null,
        c?.chargeId ?? null,
        c?.cardFingerprint ?? null,
        c?.cardCountry ?? null,
        c?.riskScore ?? null,
      ],
    );

    if (signal.kind === 'dispute_opened' || signal.kind === 'dispute_won' || signal.kind === 'dispute_lost') {
      const hold = { userId: p.userId, purchaseId: p.id, disputeId: signal.disputeId };
      if (t.hold === 'place') await this.holds.place(em, hold);
      if (t.hold === 'release') await this.holds.release(em, hold);
      for (const kind of t.outcomes) {
        await this.outcomes.record(em, {
          userId: p.userId,
          kind,
          reference: `stripe_dispute:${signal.disputeId}:${kind}`,
          purchaseId: p.id,
          data: { disputeId: signal.disputeId },
        });
      }
    }
    return toPurchaseRecord(row);
  }

  /** An event about another payment, amount or currency than the purchase's is never applied. */
  private assertSamePayment(p: PurchaseRecord, ctx: SignalContext): void {
    if (ctx.paymentIntentId && p.paymentIntentId && ctx.paymentIntentId !== p.paymentIntentId) {
      throw invalidState(`purchase ${p.id} belongs to ${p.paymentIntentId}, not ${ctx.paymentIntentId}`);
    }
    if (ctx.amount && (ctx.amount.cents !== p.priceCents || ctx.amount.currency.toUpperCase() !== p.currency)) {
      throw invalidState(
        `purchase ${p.id} costs ${p.priceCents} ${p.currency}; Stripe reported ${ctx.amount.cents} ${ctx.amount.currency}`,
      );
    }
  }
}

function reasonOf(signal: PurchaseSignal): string {
  return signal.kind === 'refunded' ? (signal.full ? 'refund' : 'partial_refund') : signal.kind;
}
