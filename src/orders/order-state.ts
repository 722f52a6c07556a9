import { StateMachine } from '../common/state-machine';

/**
 * `held_for_review`: the fraud rules asked for a review; the buyer's funds are held and the item is not
 * owned until an admin approves (`completed`, or `cancelled` when the owner got the item meanwhile) or
 * rejects (`rejected`).
 */
export type OrderStatus = 'completed' | 'refunded' | 'held_for_review' | 'rejected' | 'cancelled';
export const ORDER_STATUSES: readonly OrderStatus[] = ['completed', 'refunded', 'held_for_review', 'rejected', 'cancelled'];

export type OrderAction = 'refund' | 'approve' | 'reject' | 'cancel';

export const orderMachine = new StateMachine<OrderStatus, OrderAction>('order', {
  refund: { from: ['completed'], to: 'refunded' },
  approve: { from: ['held_for_review'], to: 'completed' },
  reject: { from: ['held_for_review'], to: 'rejected' },
  cancel: { from: ['held_for_review'], to: 'cancelled' },
});
