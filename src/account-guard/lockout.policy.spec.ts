import { lockoutAfter } from './lockout.policy';

const defaults = { lockoutThreshold: 5, lockoutBaseSeconds: 60, lockoutMaxSeconds: 900, lockoutHardLimit: 100 };

describe('progressive lockout', () => {
  it('does not lock before 5 consecutive failures', () => {
    for (let n = 0; n < 5; n++) expect(lockoutAfter(n, defaults)).toEqual({ lockSeconds: 0, untilReset: false });
  });

  it('locks 1 minute at 5, doubling to the 15-minute cap', () => {
    expect([5, 6, 7, 8, 9, 10, 50, 99].map((n) => lockoutAfter(n, defaults).lockSeconds)).toEqual([60, 120, 240, 480, 900, 900, 900, 900]);
  });

  it('locks until a password reset at 100 consecutive failures', () => {
    expect(lockoutAfter(100, defaults)).toEqual({ lockSeconds: 0, untilReset: true });
    expect(lockoutAfter(1000, defaults).untilReset).toBe(true);
  });
});
