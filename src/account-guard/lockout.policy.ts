import type { SecurityConfig } from '../config/app-config';

export interface LockoutDecision {
  /** Seconds the account stays locked after this many consecutive failures (0: not locked). */
  lockSeconds: number;
  /** Locked until the password is reset. */
  untilReset: boolean;
}

/**
 * Progressive lockout: from the threshold on, each further failure locks for twice as long as the
 * one before (1 min, 2, 4, 8, then the 15-minute cap); at the hard limit, until a password reset.
 */
export function lockoutAfter(
  consecutiveFailures: number,
  p: Pick<SecurityConfig, 'lockoutThreshold' | 'lockoutBaseSeconds' | 'lockoutMaxSeconds' | 'lockoutHardLimit'>,
): LockoutDecision {
  if (consecutiveFailures >= p.lockoutHardLimit) return { lockSeconds: 0, untilReset: true };
  if (consecutiveFailures < p.lockoutThreshold) return { lockSeconds: 0, untilReset: false };
  const doublings = Math.min(consecutiveFailures - p.lockoutThreshold, 30);
  return { lockSeconds: Math.min(p.lockoutMaxSeconds, p.lockoutBaseSeconds * 2 ** doublings), untilReset: false };
}
