import { StateMachine } from '../../common/state-machine';

export type ResellerOrderStatus =
  | 'open_review'
  | 'open'
  | 'paid'
  | 'confirm_review'
  | 'confirmed'
  | 'disputed'
  | 'cancelled'
  | 'expired'
  | 'rejected'
  | 'resolved_buyer'
  | 'resolved_reseller';

export type ResellerOrderAction =
  | 'approve_open'
  | 'reject_open'
  | 'mark_paid'
  | 'confirm'
  | 'hold_confirm'
  | 'approve_confirm'
  | 'reject_confirm'
  | 'cancel'
  | 'expire'
  | 'dispute'
  | 'resolve_buyer'
  | 'resolve_reseller';

/**
 * An escrowed reseller order (docs/resellers.md "Orders"). The credits sit in `escrow` from opening
 * until the reseller confirms (→ the buyer's wallet) or the order ends without a delivery (→ back to
 * `reseller_stock`). Two fraud review states: `open_review` (the opening was reviewed: the stock is in
 * escrow but the buyer may not pay yet) and `confirm_review` (the confirmation was reviewed: the
 * credits stay in escrow). A rejected confirmation becomes a dispute an admin resolves. The DB trigger
 * of `reseller_orders` (migration 1763900022000) allows exactly these edges.
 */
export const resellerOrderMachine = new StateMachine<ResellerOrderStatus, ResellerOrderAction>('reseller order', {
  approve_open: { from: ['open_review'], to: 'open' },
  reject_open: { from: ['open_review'], to: 'rejected' },
  mark_paid: { from: ['open'], to: 'paid' },
  confirm: { from: ['open', 'paid', 'disputed'], to: 'confirmed' },
  hold_confirm: { from: ['open', 'paid', 'disputed'], to: 'confirm_review' },
  approve_confirm: { from: ['confirm_review'], to: 'confirmed' },
  reject_confirm: { from: ['confirm_review'], to: 'disputed' },
  cancel: { from: ['open'], to: 'cancelled' },
  expire: { from: ['open'], to: 'expired' },
  dispute: { from: ['paid', 'confirmed'], to: 'disputed' },
  resolve_buyer: { from: ['disputed'], to: 'resolved_buyer' },
  resolve_reseller: { from: ['disputed'], to: 'resolved_reseller' },
});

/** Orders that still bind the reseller (its bond stays locked while one exists). */
export const UNSETTLED_ORDER_STATUSES: readonly ResellerOrderStatus[] = ['open_review', 'open', 'paid', 'confirm_review', 'disputed'];

/** Orders the buyer has not paid yet (a buyer may have only a few at once). */
export const UNPAID_ORDER_STATUSES: readonly ResellerOrderStatus[] = ['open_review', 'open'];

/** Orders that never delivered anything; they do not count towards a reseller's daily limit. */
export const UNDELIVERED_END_STATUSES: readonly ResellerOrderStatus[] = ['cancelled', 'expired', 'rejected'];

export type OrderActorRole = 'buyer' | 'reseller' | 'admin' | 'system';
