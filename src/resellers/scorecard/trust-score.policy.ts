/** What the trust score is computed from: one reseller's orders opened in the scorecard window. */
export interface TrustInputs {
  orders: number;
  /** Orders the buyer marked paid (or the reseller confirmed). */
  paid: number;
  confirmed: number;
  disputes: number;
  disputesLost: number;
  cancelledByReseller: number;
}

/** The score of a reseller without orders in the window, and the pull towards it while there are few. */
export const NEUTRAL_TRUST_SCORE = 50;
/** From this many orders in the window the score is the reseller's own record alone. */
export const FULL_CONFIDENCE_ORDERS = 10;

/**
 * A 0-100 trust score (docs/resellers.md "Trust score", with a worked example). From 100, subtract:
 *   40 × (1 − confirmed / paid)                  unconfirmed paid orders (none paid: no penalty)
 *   min(40, 400 × disputesLost / orders)         lost disputes (2% of orders costs 8 points)
 *   min(10, 50 × disputes / orders)              disputes opened, whatever their outcome
 *   min(10, 50 × cancelledByReseller / orders)   the reseller's own cancellations
 * then blend with the neutral 50 by confidence c = min(1, orders / 10):
 *   score = round(50 + (raw − 50) × c), within [0, 100].
 */
export function trustScore(s: TrustInputs): number {
  if (s.orders === 0) return NEUTRAL_TRUST_SCORE;
  const completion = s.paid === 0 ? 1 : s.confirmed / s.paid;
  const raw =
    100 -
    40 * (1 - completion) -
    Math.min(40, (400 * s.disputesLost) / s.orders) -
    Math.min(10, (50 * s.disputes) / s.orders) -
    Math.min(10, (50 * s.cancelledByReseller) / s.orders);
  const confidence = Math.min(1, s.orders / FULL_CONFIDENCE_ORDERS);
  const score = Math.round(NEUTRAL_TRUST_SCORE + (raw - NEUTRAL_TRUST_SCORE) * confidence);
  return Math.max(0, Math.min(100, score));
}
