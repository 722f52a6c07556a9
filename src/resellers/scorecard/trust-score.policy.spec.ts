import { NEUTRAL_TRUST_SCORE, trustScore, TrustInputs } from './trust-score.policy';

const none: TrustInputs = { orders: 0, paid: 0, confirmed: 0, disputes: 0, disputesLost: 0, cancelledByReseller: 0 };

describe('trust score', () => {
  it('is neutral without history', () => {
    expect(trustScore(none)).toBe(NEUTRAL_TRUST_SCORE);
  });

  it('is 100 for a full clean record', () => {
    expect(trustScore({ ...none, orders: 10, paid: 10, confirmed: 10 })).toBe(100);
    expect(trustScore({ ...none, orders: 40, paid: 30, confirmed: 30 })).toBe(100);
  });

  it('matches the worked example of docs/resellers.md', () => {
    // raw = 100 - 40*(1/18) - 400*(1/20) - 50*(2/20) - 50*(1/20) = 70.28
    expect(trustScore({ orders: 20, paid: 18, confirmed: 17, disputes: 2, disputesLost: 1, cancelledByReseller: 1 })).toBe(70);
  });

  it('pulls a short record towards neutral', () => {
    // 2 clean orders: 50 + (100 - 50) * 0.2
    expect(trustScore({ ...none, orders: 2, paid: 2, confirmed: 2 })).toBe(60);
    // 1 order, paid and lost: raw = 100 - 40 - 40 - 10 = 10; 50 + (10 - 50) * 0.1 = 46
    expect(trustScore({ ...none, orders: 1, paid: 1, disputes: 1, disputesLost: 1 })).toBe(46);
  });

  it('stays within 0-100', () => {
    expect(trustScore({ orders: 50, paid: 50, confirmed: 0, disputes: 50, disputesLost: 50, cancelledByReseller: 50 })).toBe(0);
  });
});
