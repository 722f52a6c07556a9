import { StateMachine } from '../common/state-machine';

export type ResellerStatus = 'active' | 'suspended' | 'revoked';
export type ResellerAction = 'suspend' | 'reinstate' | 'revoke' | 'reapprove';

/**
 * A reseller's standing. Suspension stops new orders and keeps open ones resolvable; revocation ends
 * the program for the user (the role is taken back); only a new approved application makes a revoked
 * reseller active again.
 */
export const resellerMachine = new StateMachine<ResellerStatus, ResellerAction>('reseller', {
  suspend: { from: ['active'], to: 'suspended' },
  reinstate: { from: ['suspended'], to: 'active' },
  revoke: { from: ['active', 'suspended'], to: 'revoked' },
  reapprove: { from: ['revoked'], to: 'active' },
});
