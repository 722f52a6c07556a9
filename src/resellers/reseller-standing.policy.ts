import type { ResellersConfig } from '../config/app-config';
import type { Reseller } from './resellers.repository';

export type Standing =
  | { mayTakeOrders: true; probation: boolean; orderMax: bigint; dailyMax: bigint }
  | { mayTakeOrders: false; reason: 'not_active' | 'vetting_overdue' };

/**
 * Whether a reseller may take a new order now, and its limits: lower ones during the probation that
 * follows approval; none at all once the periodic re-vetting is overdue, until an admin renews it.
 * Orders already open stay resolvable whatever the standing.
 */
export function standingOf(r: Reseller, now: Date, config: ResellersConfig): Standing {
  if (r.status !== 'active') return { mayTakeOrders: false, reason: 'not_active' };
  if (now >= r.vettingDueAt) return { mayTakeOrders: false, reason: 'vetting_overdue' };
  const probation = now < r.probationEndsAt;
  return {
    mayTakeOrders: true,
    probation,
    orderMax: BigInt(probation ? config.probationOrderMaxCredits : config.orderMaxCredits),
    dailyMax: BigInt(probation ? config.probationDailyMaxCredits : config.dailyMaxCredits),
  };
}

/** Whether the reseller's bond is locked in full (RESELLER_BOND_CREDITS): without it, it takes no orders whatever its standing. */
export function bondCovered(bond: bigint, config: ResellersConfig): boolean {
  return bond >= BigInt(config.bondCredits);
}
