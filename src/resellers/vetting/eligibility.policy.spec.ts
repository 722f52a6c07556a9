import { loadConfig } from '../../config/app-config';
import { DAY_MS } from '../../common/time';
import { eligibilityChecks, EligibilityFacts } from './eligibility.policy';

describe('reseller eligibility', () => {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: 'postgres://x/y',
    JWT_SECRET: 'x'.repeat(40),
    ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
  }).resellers;
  const now = new Date('2030-01-01T00:00:00Z');
  const daysAgo = (d: number) => new Date(now.getTime() - d * DAY_MS);
  const eligible: EligibilityFacts = {
    now,
    accountCreatedAt: daysAgo(90),
    emailVerified: true,
    twoFactorSince: daysAgo(7),
    chargebacks: 0,
    recentFraudBlocks: 0,
  };
  const failed = (f: Partial<EligibilityFacts>) =>
    eligibilityChecks({ ...eligible, ...f }, config)
      .filter((c) => !c.passed)
      .map((c) => [c.check, c.value]);

  it('passes an account exactly at every minimum', () => {
    expect(failed({})).toEqual([]);
  });

  it('names each failed check with its value, in a fixed order', () => {
    expect(failed({ accountCreatedAt: new Date(daysAgo(90).getTime() + 1), twoFactorSince: null, emailVerified: false })).toEqual([
      ['account_age_days', 89],
      ['email_verified', false],
      ['two_factor_days', null],
    ]);
    expect(failed({ twoFactorSince: daysAgo(6.9), chargebacks: 2, recentFraudBlocks: 1 })).toEqual([
      ['two_factor_days', 6],
      ['chargebacks', 2],
      ['recent_fraud_blocks', 1],
    ]);
  });

  it('reads its minimums from the configuration', () => {
    const checks = eligibilityChecks({ ...eligible, accountCreatedAt: daysAgo(10) }, { ...config, minAccountAgeDays: 10 });
    expect(checks.find((c) => c.check === 'account_age_days')).toEqual({
      check: 'account_age_days',
      passed: true,
      value: 10,
      required: 10,
      rule: 'min',
    });
  });
});
