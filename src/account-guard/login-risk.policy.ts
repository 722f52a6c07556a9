import type { LoginRiskConfig } from '../config/app-config';

/** What is known about a login whose password was right. */
export interface RiskSignals {
  /** The account has signed in on some device before (its very first device is never "new"). */
  hasDevices: boolean;
  knownDevice: boolean;
  hasNetworks: boolean;
  /** The /24 (IPv4) or /48 (IPv6) network was used by this account before. */
  knownNetwork: boolean;
  /** Failed password or code checks on this account in the last 24 hours. */
  recentFailures: number;
  /** Other accounts this IP failed to sign in to in the last 24 hours. */
  ipFailedAccounts: number;
}

export type RiskReason = 'new_device' | 'new_network' | 'recent_failures' | 'ip_failing_on_many_accounts';

export interface RiskAssessment {
  score: number;
  reasons: RiskReason[];
  stepUp: boolean;
}

/** The account signed in on devices before, but not on this one (its very first device is never new). */
export const isNewDevice = (s: RiskSignals): boolean => s.hasDevices && !s.knownDevice;

/** The account signed in from networks before, but not from this one. */
export const isNewNetwork = (s: RiskSignals): boolean => s.hasNetworks && !s.knownNetwork;

/**
 * ECONOMY.md: a risky login is a new device plus a new network or recent failures (or a spraying IP).
 * The weights and threshold come from AppConfig.security.loginRisk (LOGIN_RISK_* variables).
 */
export function assessLoginRisk(s: RiskSignals, w: LoginRiskConfig): RiskAssessment {
  const found: [RiskReason, boolean, number][] = [
    ['new_device', isNewDevice(s), w.newDevice],
    ['new_network', isNewNetwork(s), w.newNetwork],
    ['recent_failures', s.recentFailures >= w.recentFailuresFrom, w.recentFailures],
    ['ip_failing_on_many_accounts', s.ipFailedAccounts >= w.ipFailedAccountsFrom, w.ipFailingOnManyAccounts],
  ];
  const hits = found.filter(([, hit]) => hit);
  const score = hits.reduce((sum, [, , weight]) => sum + weight, 0);
  return { score, reasons: hits.map(([reason]) => reason), stepUp: score >= w.stepUpAt };
}
