import { AppError } from '../common/errors';
import { holdMachine, HoldAction, HoldStatus } from './hold-state';

const STATES: HoldStatus[] = ['pending', 'captured', 'voided', 'expired'];
const ACTIONS: HoldAction[] = ['capture', 'void', 'expire'];

describe('hold states', () => {
  it('leave pending once, for captured, voided or expired', () => {
    expect(holdMachine.pairs()).toEqual([
      ['pending', 'captured'],
      ['pending', 'voided'],
      ['pending', 'expired'],
    ]);
  });

  it('refuse every action on a closed hold with a 409 INVALID_STATE naming its state', () => {
    for (const status of STATES.filter((s) => s !== 'pending')) {
      for (const action of ACTIONS) {
        let err: unknown;
        try {
          holdMachine.next(status, action);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(AppError);
        const e = err as AppError;
        expect([e.code, e.status, e.extra, e.message]).toEqual([
          'INVALID_STATE',
          409,
          { status },
          `Cannot ${action} a hold that is ${status}`,
        ]);
      }
    }
  });
});
