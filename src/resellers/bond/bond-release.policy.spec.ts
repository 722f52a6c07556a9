import { bondReleaseRefusal, BondReleaseFacts } from './bond-release.policy';

const now = new Date('2025-06-30T12:00:00Z');
const facts = (f: Partial<BondReleaseFacts> = {}): BondReleaseFacts => ({
  bond: 100_000n,
  unsettled: 0,
  disputable: 0,
  lastOrderAt: new Date('2025-05-01T12:00:00Z'),
  now,
  quietDays: 30,
  ...f,
});

describe('bond release policy', () => {
  it('releases a bond when nothing binds the reseller and the last order is old enough', () => {
    expect(bondReleaseRefusal(facts())).toBeNull();
    expect(bondReleaseRefusal(facts({ lastOrderAt: null }))).toBeNull();
    expect(bondReleaseRefusal(facts({ lastOrderAt: new Date('2025-05-31T12:00:00Z') }))).toBeNull();
  });

  it('names the first thing in the way', () => {
    expect(bondReleaseRefusal(facts({ bond: 0n, unsettled: 2 }))).toEqual({ reason: 'no_bond' });
    expect(bondReleaseRefusal(facts({ unsettled: 2, disputable: 1 }))).toEqual({ reason: 'orders_open', orders: 2 });
    expect(bondReleaseRefusal(facts({ disputable: 1 }))).toEqual({ reason: 'dispute_window_open', orders: 1 });
    expect(bondReleaseRefusal(facts({ lastOrderAt: new Date('2025-05-31T12:00:01Z') }))).toEqual({
      reason: 'last_order_too_recent',
      releasableAt: '2025-06-30T12:00:01.000Z',
    });
  });
});
