import { EntryInput, Posting, systemAccount, userAccount } from '../../ledger/ledger.service';
import { UNSETTLED_ORDER_STATUSES } from './reseller-order-state';
import type { ResellerOrder } from './reseller-orders.repository';

/**
 * The ledger entries of a reseller order, one per money move, each under a reference derived from the
 * order (an order's credits enter escrow once, and leave it once: delivered or returned).
 */
const escrow = systemAccount('escrow', 'CREDIT');
const stock = (o: Pick<ResellerOrder, 'resellerId'>) => userAccount(o.resellerId, 'CREDIT', 'reseller_stock');
const buyerWallet = (o: ResellerOrder) => userAccount(o.buyerId, 'CREDIT', 'wallet');
const meta = (o: Pick<ResellerOrder, 'id' | 'resellerId' | 'buyerId'>, extra: Record<string, unknown> = {}) => ({
  orderId: o.id,
  resellerId: o.resellerId,
  buyerId: o.buyerId,
  ...extra,
});

/** Opening: `reseller_stock` → `escrow`. */
export const escrowEntry = (o: Pick<ResellerOrder, 'id' | 'resellerId' | 'buyerId' | 'amount'>): EntryInput => ({
  kind: 'reseller_order_escrow',
  reference: `reseller_order:${o.id}:escrow`,
  postings: [
    { account: stock(o), amount: -o.amount },
    { account: escrow, amount: o.amount },
  ],
  metadata: meta(o),
});

/** Confirmed, or a dispute resolved to the buyer while the credits were still in escrow: `escrow` → the buyer's wallet. */
export const deliveryEntry = (o: ResellerOrder, how: 'confirmed' | 'resolved_buyer'): EntryInput => ({
  kind: 'reseller_order_delivery',
  reference: `reseller_order:${o.id}:delivery`,
  postings: [
    { account: escrow, amount: -o.amount },
    { account: buyerWallet(o), amount: o.amount },
  ],
  metadata: meta(o, { how }),
});

/** Cancelled, expired, refused after review, or a dispute resolved to the reseller: `escrow` → `reseller_stock`. */
export const returnEntry = (o: ResellerOrder, why: string): EntryInput => ({
  kind: 'reseller_order_return',
  reference: `reseller_order:${o.id}:return`,
  postings: [
    { account: escrow, amount: -o.amount },
    { account: stock(o), amount: o.amount },
  ],
  metadata: meta(o, { why }),
});

/**
 * A dispute lost after the credits had left escrow: the buyer is paid from the reseller's `bond`
 * (`bondLegs`, as drained), and what the bond lacked becomes the reseller's `debt`.
 */
export const bondPayoutEntry = (o: ResellerOrder, bondLegs: Posting[], shortfall: bigint): EntryInput => ({
  kind: 'reseller_bond_payout',
  reference: `reseller_order:${o.id}:bond_payout`,
  postings: [
    ...bondLegs,
    ...(shortfall > 0n ? [{ account: userAccount(o.resellerId, 'CREDIT', 'debt'), amount: -shortfall }] : []),
    { account: buyerWallet(o), amount: o.amount },
  ],
  metadata: meta(o, { fromBond: (o.amount - shortfall).toString(), toDebt: shortfall.toString() }),
});

/** Whether the order's credits are still in escrow (they leave it on confirmation, or when the order ends undelivered). */
export const inEscrow = (o: ResellerOrder): boolean => o.confirmedAt === null && UNSETTLED_ORDER_STATUSES.includes(o.status);
