import type Stripe from 'stripe';
import type { PurchaseSignal } from '../purchases/purchase-state';
import { ChargeDetails, chargeDetails } from '../stripe/stripe.gateway';

export const HANDLED_EVENT_TYPES: ReadonlySet<string> = new Set([
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'charge.refunded',
  'charge.dispute.created',
  'charge.dispute.closed',
]);

/** A Stripe event reduced to what it says about one token purchase. */
export interface EventSignal {
  signal: PurchaseSignal;
  paymentIntentId: string | null;
  /** Our purchase id, from the PaymentIntent's metadata when the event carries it. */
  purchaseId: string | null;
  userId: string | null;
  /** The paid amount as Stripe reports it, checked against the purchase. */
  amount: { cents: bigint; currency: string } | null;
  /** Card and Radar details when the event carries the charge. */
  charge: ChargeDetails | null;
  /** A charge to fetch details of when the event does not carry them. */
  chargeId: string | null;
}

const idOf = (v: string | { id: string } | null | undefined): string | null => (typeof v === 'string' ? v : (v?.id ?? null));

/** Maps an event to a signal; null for types and dispute statuses Bazaar does not act on. */
export function signalOf(event: Stripe.Event): EventSignal | null {
  const base = { paymentIntentId: null, purchaseId: null, userId: null, amount: null, charge: null, chargeId: null };
  switch (event.type) {
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed': {
      const pi = event.data.object;
      const common = {
        ...base,
        paymentIntentId: pi.id,
        purchaseId: pi.metadata?.purchase_id ?? null,
        userId: pi.metadata?.user_id ?? null,
        amount: { cents: BigInt(pi.amount), currency: pi.currency },
      };
      if (event.type === 'payment_intent.payment_failed') {
        const err = pi.last_payment_error;
        return {
          ...common,
          signal: { kind: 'payment_failed', code: err?.decline_code ?? err?.code ?? null, message: err?.message ?? null },
        };
      }
      return { ...common, signal: { kind: 'paid' }, chargeId: idOf(pi.latest_charge) };
    }
    case 'charge.refunded': {
      const ch = event.data.object;
      const charge = chargeDetails(ch);
      return {
        ...base,
        paymentIntentId: charge.paymentIntentId,
        purchaseId: ch.metadata?.purchase_id ?? null,
        userId: ch.metadata?.user_id ?? null,
        amount: { cents: charge.amount, currency: charge.currency },
        charge,
        chargeId: charge.chargeId,
        signal: { kind: 'refunded', refundedCents: charge.amountRefunded, full: charge.fullyRefunded },
      };
    }
    case 'charge.dispute.created':
    case 'charge.dispute.closed': {
      const dp = event.data.object;
      const kind = event.type === 'charge.dispute.created' ? 'dispute_opened' : closedKind(dp.status);
      if (!kind) return null;
      return { ...base, paymentIntentId: idOf(dp.payment_intent), chargeId: idOf(dp.charge), signal: { kind, disputeId: dp.id } };
    }
    default:
      return null;
  }
}

/** `warning_closed` (an inquiry that never became a chargeback) and `prevented` end like a win. */
function closedKind(status: string): 'dispute_won' | 'dispute_lost' | null {
  if (status === 'won' || status === 'warning_closed' || status === 'prevented') return 'dispute_won';
  if (status === 'lost') return 'dispute_lost';
  return null;
}
