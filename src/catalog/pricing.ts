/** The IMVU price formula and the split of a sale; pure integer arithmetic on bigint amounts. */

export interface PriceBreakdown {
  /** Sum of the profits of every ancestor in the derivation chain. */
  derivationCost: bigint;
  profit: bigint;
  /** The platform's markup: `markupPercent` of (derivationCost + profit), rounded up. */
  platformFee: bigint;
  price: bigint;
}

export interface CreditSplit {
  /** One share per ancestor, in the order of `ancestorProfits`. */
  ancestors: bigint[];
  seller: bigint;
  platform: bigint;
}

const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, b) => a + b, 0n);

function assertAmount(x: bigint, what: string): void {
  if (x < 0n) throw new RangeError(`${what} must not be negative`);
}

export function priceOf(profit: bigint, ancestorProfits: readonly bigint[], markupPercent: number): PriceBreakdown {
  assertAmount(profit, 'profit');
  ancestorProfits.forEach((p) => assertAmount(p, 'ancestor profit'));
  const derivationCost = sum(ancestorProfits);
  const base = derivationCost + profit;
  const platformFee = (base * BigInt(markupPercent) + 99n) / 100n;
  return { derivationCost, profit, platformFee, price: base + platformFee };
}

/**
 * Shares of a CREDIT sale at a listing's stored price. Ancestors receive their own profits unless
 * together they would exceed `capPercent` of the price (rounded down); then every share shrinks in
 * proportion (rounded down) and whatever the ancestors do not receive goes to the seller, so the shares
 * always add up to the price.
 */
export function splitCreditSale(price: PriceBreakdown, ancestorProfits: readonly bigint[], capPercent: number): CreditSplit {
  if (sum(ancestorProfits) !== price.derivationCost || price.price !== price.derivationCost + price.profit + price.platformFee) {
    throw new RangeError('the price breakdown does not match the derivation chain');
  }
  const cap = (price.price * BigInt(capPercent)) / 100n;
  const ancestors = price.derivationCost > cap ? ancestorProfits.map((a) => (a * cap) / price.derivationCost) : [...ancestorProfits];
  return { ancestors, seller: price.profit + price.derivationCost - sum(ancestors), platform: price.platformFee };
}
