import type { PurchaseDestination } from './purchase-destination';
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
  /** Into the purchase's destination (`wallet` or `reseller_stock`). */
  toDestination: bigint;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * Where granted credits go: first they repay debt (up to `repayable`, see `repayableDebt`), then they
 * restore what an earlier clawback of this purchase took from `earnings`, and the rest lands in the
 * purchase's destination.
 */
export function splitGrant(amount: bigint, repayable: bigint, clawedEarnings: bigint): GrantSplit {
  const toDebt = min(amount, repayable > 0n ? repayable : 0n);
  const toEarnings = min(amount - toDebt, clawedEarnings);
  return { toDebt, toEarnings, toDestination: amount - toDebt - toEarnings };
}

/**
 * The debt a grant repays first. Credits bought into the wallet repay whatever the user owes. Reseller
 * stock is for orders only, so a wholesale grant repays no other debt: only what this purchase's own
 * clawbacks turned into debt (`clawedDebt`), when a dispute won gives the credits back.
 */
export function repayableDebt(destination: PurchaseDestination, owed: bigint, clawedDebt: bigint): bigint {
  return destination === 'wallet' ? owed : min(owed, clawedDebt);
}

/** `clawedDebt` after a grant of `amount`: the grant reverses the debt part of earlier clawbacks first. */
export function clawedDebtAfterGrant(clawedDebt: bigint, amount: bigint): bigint {
  return clawedDebt - min(amount, clawedDebt);
}
