import type { UserAccountName } from '../../ledger/ledger.types';

/**
 * Where a purchase's credits are minted: the buyer's `wallet` (a token package bought by anyone), or a
 * reseller's `reseller_stock` (a wholesale package), which only ever leaves through reseller orders. The
 * destination is also the name of the ledger account credited.
 */
export const PURCHASE_DESTINATIONS = ['wallet', 'reseller_stock'] as const;
export type PurchaseDestination = (typeof PURCHASE_DESTINATIONS)[number];

/** The fraud event that decides the purchase request (the payment is `payment_succeeded` either way). */
export type RequestEventType = 'token_purchase' | 'wholesale_purchase';

export function requestEventOf(destination: PurchaseDestination): RequestEventType {
  return destination === 'reseller_stock' ? 'wholesale_purchase' : 'token_purchase';
}

/** Where a clawback takes credits from, in order: the destination first, then `wallet`, then `earnings` (the rest becomes debt). */
export function clawbackOrder(destination: PurchaseDestination): UserAccountName[] {
  return destination === 'wallet' ? ['wallet', 'earnings'] : [destination, 'wallet', 'earnings'];
}
