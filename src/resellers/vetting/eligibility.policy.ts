import type { ResellersConfig } from '../../config/app-config';
import { DAY_MS } from '../../common/time';

export type EligibilityCheckName = 'account_age_days' | 'email_verified' | 'two_factor_days' | 'chargebacks' | 'recent_fraud_blocks';

/** One eligibility check: what the account has (`value`) against what the program requires. */
export interface EligibilityCheck {
  check: EligibilityCheckName;
  passed: boolean;
  value: number | boolean | null;
  required: number | boolean;
  /** How `value` compares with `required`: at least, exactly, at most. */
  rule: 'min' | 'equals' | 'max';
}

/** What eligibility is judged on, as read by ApplicationsService. */
export interface EligibilityFacts {
  now: Date;
  accountCreatedAt: Date;
  emailVerified: boolean;
  /** When 2FA was turned on (confirmed); null when it is off. */
  twoFactorSince: Date | null;
  chargebacks: number;
  /** BLOCK decisions in the last `fraudBlockLookbackDays`. */
  recentFraudBlocks: number;
}

const wholeDays = (from: Date, to: Date): number => Math.floor((to.getTime() - from.getTime()) / DAY_MS);

/**
 * Whether an account may apply to resell (ECONOMY.md "Resellers"): every check with its value, so a
 * refusal names each failed one and the check report keeps them all. Pure: facts in, checks out.
 */
export function eligibilityChecks(f: EligibilityFacts, config: ResellersConfig): EligibilityCheck[] {
  const accountDays = wholeDays(f.accountCreatedAt, f.now);
  const twoFactorDays = f.twoFactorSince ? wholeDays(f.twoFactorSince, f.now) : null;
  return [
    {
      check: 'account_age_days',
      value: accountDays,
      required: config.minAccountAgeDays,
      rule: 'min',
      passed: accountDays >= config.minAccountAgeDays,
    },
    { check: 'email_verified', value: f.emailVerified, required: true, rule: 'equals', passed: f.emailVerified },
    {
      check: 'two_factor_days',
      value: twoFactorDays,
      required: config.minTwoFactorDays,
      rule: 'min',
      passed: twoFactorDays !== null && twoFactorDays >= config.minTwoFactorDays,
    },
    { check: 'chargebacks', value: f.chargebacks, required: 0, rule: 'max', passed: f.chargebacks === 0 },
    { check: 'recent_fraud_blocks', value: f.recentFraudBlocks, required: 0, rule: 'max', passed: f.recentFraudBlocks === 0 },
  ];
}
