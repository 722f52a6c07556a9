import { StateMachine } from '../common/state-machine';
import type { CreditTransferView } from './credit-transfers.repository';

/** A transfer held for a fraud review is decided once: approved (`completed`) or `rejected`. */
export const creditTransferMachine = new StateMachine<CreditTransferView['status'], 'approve' | 'reject'>('credit transfer', {
  approve: { from: ['held_for_review'], to: 'completed' },
  reject: { from: ['held_for_review'], to: 'rejected' },
});
