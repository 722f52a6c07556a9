import { PaymentsErrors } from '../payments.errors';

export type PurchaseStatus = 'pending' | 'succeeded' | 'failed' | 'refunded' | 'disputed';
export const PURCHASE_STATUSES: readonly PurchaseStatus[] = ['pending', 'succeeded', 'failed', 'refunded', 'disputed'];
export type DisputeStatus = 'open' | 'won' | 'lost';

/** What Stripe told us about a purchase, reduced to the facts the state machine reads. */
export type PurchaseSignal =
  | { kind: 'paid' }
  | { kind: 'payment_failed'; code: string | null; message: string | null }
  | { kind: 'refunded'; refundedCents: bigint; full: boolean }
  | { kind: 'dispute_opened' | 'dispute_won' | 'dispute_lost'; disputeId: string };

type StatusEvent = 'paid' | 'payment_failed' | 'refund_partial' | 'refund_full' | 'dispute_opened' | 'dispute_won' | 'dispute_lost';

/**
 * The status machine. Stripe delivers events late, twice and out of order, so every event has an
 * edge from every status it can meet: a refund, a dispute or a won dispute proves the charge was paid
 * even before `payment_intent.succeeded` arrives, and a stale event (a decline after the success, a
 * success after the refund) keeps the status. A missing entry is an illegal transition.
 */
export const STATUS_TRANSITIONS: Record<StatusEvent, Partial<Record<PurchaseStatus, PurchaseStatus>>> = {
  paid: { pending: 'succeeded', failed: 'succeeded', succeeded: 'succeeded', refunded: 'refunded', disputed: 'disputed' },
  payment_failed: { pending: 'failed', failed: 'failed', succeeded: 'succeeded', refunded: 'refunded', disputed: 'disputed' },
  // Stripe refuses to refund a disputed charge, so a refund while disputed means something is wrong.
  refund_partial: { pending: 'succeeded', failed: 'succeeded', succeeded: 'succeeded', refunded: 'refunded' },
  refund_full: { pending: 'refunded', failed: 'refunded', succeeded: 'refunded', refunded: 'refunded' },
  dispute_opened: { pending: 'disputed', failed: 'disputed', succeeded: 'disputed', disputed: 'disputed' },
  dispute_won: { pending: 'succeeded', failed: 'succeeded', succeeded: 'succeeded', disputed: 'succeeded' },
  dispute_lost: { pending: 'disputed', failed: 'disputed', succeeded: 'disputed', disputed: 'disputed' },
};

type DisputeEvent = 'dispute_opened' | 'dispute_won' | 'dispute_lost';
/** 'stale': the dispute is already closed, so a late "created" changes nothing. */
export const DISPUTE_TRANSITIONS: Record<DisputeEvent, Partial<Record<DisputeStatus | 'none', DisputeStatus | 'stale'>>> = {
  dispute_opened: { none: 'open', open: 'open', won: 'stale', lost: 'stale' },
  dispute_won: { none: 'won', open: 'won', won: 'won' },
  dispute_lost: { none: 'lost', open: 'lost', lost: 'lost' },
};

export interface PurchaseFacts {
  status: PurchaseStatus;
  refundedCents: bigint;
  dispute: { id: string; status: DisputeStatus } | null;
}

export interface Transition extends PurchaseFacts {
  /** The signal proves the charge was paid (everything but a decline). */
  paid: boolean;
  /** Side effects, each idempotent on its own reference: the buyer's account restriction while a dispute is open, fraud outcomes. */
  restriction: 'impose' | 'lift' | null;
  outcomes: ('chargeback' | 'dispute_lost')[];
}

/** Applies one signal; throws INVALID_STATE for a transition the tables do not allow. */
export function transition(from: PurchaseFacts, signal: PurchaseSignal): Transition {
  const base: Transition = { ...from, paid: signal.kind !== 'payment_failed', restriction: null, outcomes: [] };
  switch (signal.kind) {
    case 'paid':
    case 'payment_failed':
      return { ...base, status: step(from, signal.kind) };
    case 'refunded': {
      const refundedCents = signal.refundedCents > from.refundedCents ? signal.refundedCents : from.refundedCents;
      return { ...base, refundedCents, status: step(from, signal.full ? 'refund_full' : 'refund_partial') };
    }
    default: {
      if (from.dispute && from.dispute.id !== signal.disputeId) {
        throw PaymentsErrors.otherDispute(from.dispute.id, signal.disputeId);
      }
      const before = from.dispute?.status ?? 'none';
      const after = DISPUTE_TRANSITIONS[signal.kind][before];
      if (!after) throw PaymentsErrors.disputeTransition(before, signal.kind);
      const outcomes: Transition['outcomes'] = signal.kind === 'dispute_lost' ? ['chargeback', 'dispute_lost'] : ['chargeback'];
      if (after === 'stale') return { ...base, outcomes };
      return {
        ...base,
        status: step(from, signal.kind),
        dispute: { id: signal.disputeId, status: after },
        restriction: after === 'won' ? 'lift' : 'impose',
        outcomes,
      };
    }
  }
}

function step(from: PurchaseFacts, event: StatusEvent): PurchaseStatus {
  const next = STATUS_TRANSITIONS[event][from.status];
  if (!next) throw PaymentsErrors.statusTransition(from.status, event);
  return next;
}
