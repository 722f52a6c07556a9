import { StateMachine } from '../common/state-machine';

export type ReviewStatus = 'open' | 'approved' | 'rejected';
export type ReviewAction = 'approve' | 'reject';

/** A review is decided once: open → approved | rejected. */
export const reviewMachine = new StateMachine<ReviewStatus, ReviewAction>('fraud review', {
  approve: { from: ['open'], to: 'approved' },
  reject: { from: ['open'], to: 'rejected' },
});
