import { StateMachine } from '../common/state-machine';

export type HoldStatus = 'pending' | 'captured' | 'voided' | 'expired';
export type HoldAction = 'capture' | 'void' | 'expire';

/** A ledger hold leaves `pending` once, for good (the database's ledger_holds_transition guards it too). */
export const holdMachine = new StateMachine<HoldStatus, HoldAction>('hold', {
  capture: { from: ['pending'], to: 'captured' },
  void: { from: ['pending'], to: 'voided' },
  expire: { from: ['pending'], to: 'expired' },
});
