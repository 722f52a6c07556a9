import { StateMachine } from '../common/state-machine';

export type OrderStatus = 'completed' | 'refunded';

export const orderMachine = new StateMachine<OrderStatus, 'refund'>('order', {
  refund: { from: ['completed'], to: 'refunded' },
});
