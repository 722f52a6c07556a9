import type { TokenPackage } from '../packages/token-packages.repository';
import type { PurchaseDestination } from './purchase-destination';

/** What a purchase copies when it is made, so that later edits of its package never change it. */
export interface PurchaseTerms {
  packageId: string;
  destination: PurchaseDestination;
  /** What is charged. */
  priceCents: bigint;
  /** Wholesale: the retail price the charge was discounted from; null for a wallet purchase. */
  retailPriceCents: bigint | null;
  currency: string;
  credits: bigint;
  bonusPromo: bigint;
}

/**
 * The wholesale price of a retail price: `retail × (100 − discount) / 100`, rounded up (in the
 * platform's favour). With a discount below 100 it is at least 1 cent.
 */
export function wholesalePriceCents(retailCents: bigint, discountPercent: number): bigint {
  return (retailCents * BigInt(100 - discountPercent) + 99n) / 100n;
}

/** A package bought into the wallet at its price, or into reseller stock at the wholesale price (never with a bonus). */
export function termsOf(pkg: TokenPackage, destination: PurchaseDestination, discountPercent: number): PurchaseTerms {
  const base = { packageId: pkg.id, destination, currency: pkg.currency, credits: pkg.credits };
  if (destination === 'wallet') return { ...base, priceCents: pkg.priceCents, retailPriceCents: null, bonusPromo: pkg.bonusPromo };
  return { ...base, priceCents: wholesalePriceCents(pkg.priceCents, discountPercent), retailPriceCents: pkg.priceCents, bonusPromo: 0n };
}
