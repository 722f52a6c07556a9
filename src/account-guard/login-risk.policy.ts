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

/**
 * ECONOMY.md: a risky login is a new device plus a new network or recent failures (or a spraying IP).
 * The weights and threshold come from AppConfig.security.loginRisk (LOGIN_RISK_* variables).
 */
export function assessLoginRisk(s: RiskSignals, w: LoginRiskConfig): RiskAssessment {
  const found: [RiskReason, boolean, number][] = [
    ['new_device', s.hasDevices && !s.knownDevice, w.newDevice],
    ['new_network', s.hasNetworks && !s.knownNetwork, w.newNetwork],
    ['recent_failures', s.recentFailures >= w.recentFailuresFrom, w.recentFailures],
    ['ip_failing_on_many_accounts', s.ipFailedAccounts >= w.ipFailedAccountsFrom, w.ipFailingOnManyAccounts],
  ];
  const hits = found.filter(([, hit]) => hit);
  const score = hits.reduce((sum, [, , weight]) => sum + weight, 0);
  return { score, reasons: hits.map(([reason]) => reason), stepUp: score >= w.stepUpAt };
}
