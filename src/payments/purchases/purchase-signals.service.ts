import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';
import { FraudService } from '../../fraud/fraud.service';
import { JobsService } from '../../jobs/jobs.service';
import { DisputeRestrictionsService } from '../disputes/dispute-restrictions.service';
import { PaymentsErrors } from '../payments.errors';
import { PurchaseScreeningService } from '../screening/purchase-screening.service';
import type { ChargeDetails } from '../stripe/stripe.gateway';
import { PurchaseSettlementService } from './purchase-settlement.service';
import { PurchaseSignal, PurchaseStatus, Transition, transition } from './purchase-state';
import type { FraudRefusal, PurchaseRecord } from './purchase.record';
import { adjustment, entitlement } from './settlement';
import { TokenPurchasesRepository } from './token-purchases.repository';
import { sideBySide } from '../../database/side-by-side';

/** Refunds of purchases the fraud checks refused (PurchaseRefundsService), queued in the refusing transaction. */
export const FRAUD_REFUND_QUEUE = 'payments.fraud-refund';

export interface SignalContext {
  paymentIntentId?: string | null;
  amount?: { cents: bigint; currency: string } | null;
  charge?: ChargeDetails | null;
}

/** One purchase's signal, for `applyMany`. */
export interface SignalInput {
  p: PurchaseRecord;
  signal: PurchaseSignal;
  ctx?: SignalContext;
}

/** A signal with the transition it makes, before the fraud checks. */
interface Step {
  p: PurchaseRecord;
  signal: PurchaseSignal;
  ctx: SignalContext;
  t: Transition;
}

/**
 * What the fraud checks make of one change: the status they impose, a refusal as the payment arrives,
 * and whether a grant is held (null: if the purchase has a review open).
 */
interface Screened {
  status: PurchaseStatus;
  refusal: FraudRefusal | null;
  holdForReview: boolean | null;
}

/** A refused purchase's payment still to be given back (Stripe refuses to refund a disputed charge). */
export const refundDue = (p: PurchaseRecord): boolean =>
  p.fraudRefusal !== null && p.paidAt !== null && p.paymentIntentId !== null && p.refundedCents < p.priceCents && p.disputeId === null;

const refusalFailure = (refusal: FraudRefusal) => ({
  code: `fraud_${refusal}`,
  message: 'Refused by the fraud checks; the payment is refunded',
});

/**
 * Applies what Stripe reported to a purchase, in the caller's transaction and under the purchase's
 * row lock: the status machine, the fraud checks when the payment is first seen good, then the ledger
 * (so the buyer holds what is due), then the account restriction and fraud labels of a dispute. Each
 * step is idempotent, so any order and any repetition of events ends in the same place.
 *
 * A purchase the fraud checks refuse before anything was minted ends `failed` (`fraud_blocked`,
 * `fraud_rejected`) and stays so: later refunds and disputes are recorded, nothing is ever due. Its
 * refund is queued in the same transaction.
 */
@Injectable()
export class PurchaseSignalsService {
  constructor(
    private readonly purchases: TokenPurchasesRepository,
    private readonly settlement: PurchaseSettlementService,
    private readonly screening: PurchaseScreeningService,
    private readonly restrictions: DisputeRestrictionsService,
    private readonly fraud: FraudService,
    private readonly jobs: JobsService,
    private readonly clock: Clock,
  ) {}

  async apply(em: EntityManager, p: PurchaseRecord, signal: PurchaseSignal, ctx: SignalContext = {}): Promise<PurchaseRecord> {
    return (await this.applyMany(em, [{ p, signal, ctx }]))[0];
  }

  /**
   * `apply` for several purchases at once (each its own signal, under its row lock), answers in
   * order: the fraud checks of the payments first seen good are decided in one evaluation, and the
   * rest of each application runs side by side (pipelined on the transaction's connection). A
   * failure is reported once every application has ended; the caller's transaction must then roll back.
   */
  async applyMany(em: EntityManager, inputs: SignalInput[]): Promise<PurchaseRecord[]> {
    const steps = inputs.map(({ p, signal, ctx = {} }): Step => {
      this.assertSamePayment(p, ctx);
      const dispute = p.disputeId ? { id: p.disputeId, status: p.disputeStatus! } : null;
      return { p, signal, ctx, t: transition({ status: p.status, refundedCents: p.refundedCents, dispute }, signal) };
    });
    const screened = await this.screen(em, steps);
    return sideBySide(steps.map((step, i) => this.change(em, step, screened[i])));
  }

  private async change(em: EntityManager, { p, signal, ctx, t }: Step, screened: Screened): Promise<PurchaseRecord> {
    const refused = (p.fraudRefusal ?? screened.refusal) !== null;
    const due = entitlement({ ...p, status: t.status, refundedCents: t.refundedCents, refused });
    const grants = adjustment(due, { credits: p.grantedCredits, promo: p.grantedPromo }).kind === 'grant';
    const holdForReview = grants && (screened.holdForReview ?? (await this.screening.reviewState(em, p)) === 'open');
    const settled = await this.settlement.settle(em, p, due, reasonOf(signal), { holdForReview });
    // A late decline of a payment the checks refused does not hide why it failed.
    const declined = signal.kind === 'payment_failed' && screened.status === 'failed' && !(p.fraudRefusal && p.paidAt) ? signal : null;
    const updated = await this.purchases.applyChange(
      em,
      p.id,
      {
        status: screened.status,
        refundedCents: t.refundedCents,
        dispute: t.dispute,
        settled,
        paid: t.paid,
        paymentIntentId: ctx.paymentIntentId ?? null,
        failure: screened.refusal ? refusalFailure(screened.refusal) : declined && { code: declined.code, message: declined.message },
        charge: ctx.charge ?? null,
        refusal: screened.refusal,
      },
      this.clock.now(),
    );
    if (screened.refusal && refundDue(updated)) await this.jobs.enqueue(FRAUD_REFUND_QUEUE, { purchaseId: p.id }, em);

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

  /**
   * Refuses a purchase after a rejected review, in the admin's transaction under the purchase's row
   * lock: what was minted is clawed back at once (the review holds released in the same transaction,
   * so it is never spendable in between) and the refund is queued; a purchase not yet paid is refused
   * when its payment arrives. Refusing twice changes nothing.
   */
  async refuse(em: EntityManager, p: PurchaseRecord, refusal: FraudRefusal): Promise<PurchaseRecord> {
    if (p.fraudRefusal) return p;
    const settled = await this.settlement.settle(em, p, { credits: 0n, promo: 0n }, `fraud_${refusal}`);
    const updated = await this.purchases.applyChange(
      em,
      p.id,
      {
        status: p.status,
        refundedCents: p.refundedCents,
        dispute: p.disputeId ? { id: p.disputeId, status: p.disputeStatus! } : null,
        settled,
        paid: false,
        paymentIntentId: null,
        failure: null,
        charge: null,
        refusal,
      },
      this.clock.now(),
    );
    if (refundDue(updated)) await this.jobs.enqueue(FRAUD_REFUND_QUEUE, { purchaseId: p.id }, em);
    return updated;
  }

  /**
   * The first time the payment is seen good (nothing minted yet), `payment_succeeded` is decided: a
   * refusal fails the purchase, a review holds what is minted. A purchase refused before it was paid
   * stays failed. A later grant (a dispute won) is held while a review of the purchase is open.
   */
  private async screen(em: EntityManager, steps: Step[]): Promise<Screened[]> {
    const firstPaid = steps.map(({ p, t }) => t.status === 'succeeded' && p.status !== 'succeeded' && p.ledgerOps === 0);
    const checked = steps.flatMap((step, i) => (firstPaid[i] && !step.p.fraudRefusal ? [i] : []));
    const verdicts = await this.screening.screenPayments(
      em,
      checked.map((i) => ({ p: steps[i].p, charge: steps[i].ctx.charge ?? null })),
    );
    const verdictOf = new Map(checked.map((i, k) => [i, verdicts[k]]));
    return steps.map(({ p, t }, i): Screened => {
      if (firstPaid[i]) {
        const verdict = p.fraudRefusal ? { refusal: p.fraudRefusal } : verdictOf.get(i)!;
        if (verdict.refusal) return { status: 'failed', refusal: verdict.refusal, holdForReview: false };
        return { status: t.status, refusal: null, holdForReview: verdict.hold };
      }
      const frozen = p.fraudRefusal && (p.status === 'pending' || p.status === 'failed');
      return { status: frozen ? 'failed' : t.status, refusal: null, holdForReview: p.fraudRefusal ? false : null };
    });
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
