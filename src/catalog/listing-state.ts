import { StateMachine } from '../common/state-machine';

export type ListingStatus = 'draft' | 'pending_review' | 'published' | 'delisted' | 'rejected';
export type ListingAction = 'edit' | 'submit' | 'approve' | 'reject' | 'delist';

export const LISTING_STATES: readonly ListingStatus[] = ['draft', 'pending_review', 'published', 'delisted', 'rejected'];

export const listingMachine = new StateMachine<ListingStatus, ListingAction>('listing', {
  edit: { from: ['draft'], to: 'draft' },
  submit: { from: ['draft'], to: 'pending_review' },
  approve: { from: ['pending_review'], to: 'published' },
  reject: { from: ['pending_review'], to: 'rejected' },
  delist: { from: ['published'], to: 'delisted' },
});
