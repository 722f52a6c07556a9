import type { PurchaseStatus } from './purchase-state';

/** CREDIT and PROMO amounts of one purchase (granted, or due). */
export interface TokenAmounts {
  credits: bigint;
  promo: bigint;
}

export interface EntitlementInput {
  status: PurchaseStatus;
  credits: bigint;
  bonusPromo: bigint;
  priceCents: bigint;
  refundedCents: bigint;
  /** The fraud checks refused the purchase (purchase.record.ts `fraudRefusal`). */
  refused: boolean;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/**
 * What the buyer should hold from a purchase: everything while it stands as paid, less the refunded
 * share (rounded in the platform's favour), nothing once refunded, disputed, failed or pending, nor
 * ever once the fraud checks refused it.
 */
export function entitlement(p: EntitlementInput): TokenAmounts {
  if (p.refused || p.status !== 'succeeded') return { credits: 0n, promo: 0n };
  const keep = (total: bigint) => total - ceilDiv(total * p.refundedCents, p.priceCents);
  return { credits: keep(p.credits), promo: keep(p.bonusPromo) };
}

export type Adjustment = { kind: 'none' } | { kind: 'grant' | 'clawback'; credits: bigint; promo: bigint };

/** The ledger movement that brings what was granted to what is due. */
export function adjustment(due: TokenAmounts, granted: TokenAmounts): Adjustment {
  const dc = due.credits - granted.credits;
  const dp = due.promo - granted.promo;
  if (dc === 0n && dp === 0n) return { kind: 'none' };
  if (dc >= 0n && dp >= 0n) return { kind: 'grant', credits: dc, promo: dp };
  if (dc <= 0n && dp <= 0n) return { kind: 'clawback', credits: -dc, promo: -dp };
  // Both follow the same status and refund ratio, so they never move in opposite directions.
  throw new Error(`credits and promo adjustments disagree (${dc}, ${dp})`);
}

export interface GrantSplit {
  toDebt: bigint;
  toEarnings: bigint;
  toWallet: bigint;
}

/**
 * Where granted credits go: first they repay what the user owes, then they restore what an earlier
 * clawback of this purchase took from `earnings`, and the rest lands in `wallet`.
 */
export function splitGrant(amount: bigint, owed: bigint, clawedEarnings: bigint): GrantSplit {
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  const toDebt = min(amount, owed > 0n ? owed : 0n);
  const toEarnings = min(amount - toDebt, clawedEarnings);
  return { toDebt, toEarnings, toWallet: amount - toDebt - toEarnings };
}
