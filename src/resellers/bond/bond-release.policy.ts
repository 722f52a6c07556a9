import { addDays } from '../../common/time';

export interface BondReleaseFacts {
  bond: bigint;
  /** Orders not settled yet (open, paid, disputed, or under a fraud review). */
  unsettled: number;
  /** Confirmed orders the buyer may still dispute. */
  disputable: number;
  lastOrderAt: Date | null;
  now: Date;
  quietDays: number;
}

export type BondReleaseRefusal =
  | { reason: 'no_bond' }
  | { reason: 'orders_open'; orders: number }
  | { reason: 'dispute_window_open'; orders: number }
  | { reason: 'last_order_too_recent'; releasableAt: string };

/**
 * Whether a reseller's bond may go back to its wallet (ECONOMY.md "Resellers"): there is a bond, no
 * order binds the reseller any more (none unsettled, none confirmed recently enough to be disputed),
 * and the last order is at least RESELLER_BOND_RELEASE_QUIET_DAYS old. Cooling periods and freezes
 * are the account guard's (checked before this). Null when it may.
 */
export function bondReleaseRefusal(f: BondReleaseFacts): BondReleaseRefusal | null {
  if (f.bond <= 0n) return { reason: 'no_bond' };
  if (f.unsettled > 0) return { reason: 'orders_open', orders: f.unsettled };
  if (f.disputable > 0) return { reason: 'dispute_window_open', orders: f.disputable };
  if (f.lastOrderAt) {
    const releasableAt = addDays(f.lastOrderAt, f.quietDays);
    if (f.now < releasableAt) return { reason: 'last_order_too_recent', releasableAt: releasableAt.toISOString() };
  }
  return null;
}
