import { StateMachine } from '../../common/state-machine';

export type ApplicationStatus = 'submitted' | 'awaiting_second_approval' | 'approved' | 'rejected' | 'withdrawn';
export type ApplicationAction = 'first_approve' | 'second_approve' | 'reject' | 'withdraw';

/** A reseller application: two different admins approve it (four eyes); the applicant may withdraw it while it waits. */
export const applicationMachine = new StateMachine<ApplicationStatus, ApplicationAction>('reseller application', {
  first_approve: { from: ['submitted'], to: 'awaiting_second_approval' },
  second_approve: { from: ['awaiting_second_approval'], to: 'approved' },
  reject: { from: ['submitted', 'awaiting_second_approval'], to: 'rejected' },
  withdraw: { from: ['submitted', 'awaiting_second_approval'], to: 'withdrawn' },
});

export const OPEN_APPLICATION_STATUSES: readonly ApplicationStatus[] = ['submitted', 'awaiting_second_approval'];
