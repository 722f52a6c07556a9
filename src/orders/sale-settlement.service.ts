import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { ListingForSale } from '../catalog/catalog.service';
import { IdempotencyService } from '../common/idempotency/idempotency.service';
import { AppConfig } from '../config/app-config';
import { LedgerService, LockedFunds, Posting, systemAccount, userAccount } from '../ledger/ledger.service';
import { EarningsMaturityPolicy } from './earnings-maturity.policy';
import { NewEarningLine } from './orders.repository';
import { OrderRow } from './orders.rows';
import { PayWith, planSale } from './sale-plan';
import { sideBySide } from '../database/side-by-side';

/** A sale about to be settled: paid (`paid`: the buyer's debit legs), owned, and the creators paid. */
export interface Settlement {
  orderId: string;
  listing: ListingForSale;
  buyerId: string;
  ownerId: string;
  payWith: PayWith;
  paid: Posting[];
  /** The order's ledger reference (`ledgerReference`). */
  reference: string;
}

/** The ledger reference of an order's sale entry: one per request (the buyer's Idempotency-Key). */
export function ledgerReference(buyerId: string, idempotencyKey: string): string {
  return IdempotencyService.reference('order', { userId: buyerId, key: idempotencyKey, requestHash: '', responseStatus: 0 });
}

/** The buyer's debit legs an order recorded (`paid_from`), as it paid them. */
export function paidLegs(order: OrderRow): Posting[] {
  return Object.entries(order.paid_from).map(([name, amount]) => ({
    account: userAccount(order.buyer_id, order.pay_with, name as 'wallet' | 'earnings'),
    amount: -BigInt(amount),
  }));
}

/** Where a held order's funds are reserved to (nothing is ever captured there: a hold is voided, then the sale posted). */
export const reviewHoldTarget = (payWith: PayWith) => systemAccount('escrow', payWith);

/**
 * The ledger entries of sales, as a purchase allowed at once posts them and as an approved review posts
 * them later: one `purchase` entry per sale (referenced by the order's request), posted in `em`'s
 * transaction, beside the caller's `record` of the creators' earning lines (with their maturity dates;
 * first sales recorded in the same transaction) with its orders: the two statements go out together.
 */
@Injectable()
export class SaleSettlement {
  constructor(
    private readonly config: AppConfig,
    private readonly maturity: EarningsMaturityPolicy,
    private readonly ledger: LedgerService,
  ) {}

  /**
   * `locked`: the buyers' funds as a `debitsInOrder` just before found them, which decided that every
   * sale is paid for: a refusal here means a bug, and fails the caller's transaction.
   */
  async settle<R>(
    em: EntityManager,
    sales: Settlement[],
    now: Date,
    record: (lines: NewEarningLine[]) => Promise<R>,
    locked?: LockedFunds,
  ): Promise<R> {
    if (!sales.length) return record([]);
    const creators = [...new Set(sales.flatMap((s) => [s.listing.creatorId, ...s.listing.ancestors.map((a) => a.creatorId)]))];
    const maturesAt = await this.maturity.maturityDates(em, creators, now);
    const plans = sales.map((s) =>
      planSale(s.listing, s.payWith, {
        royaltyCapPercent: this.config.economy.royaltyCapPercent,
        devTokensPerCreator: this.config.economy.promoDevTokensPerCreator,
        now,
        maturesAt: (creatorId) => (s.payWith === 'CREDIT' ? maturesAt.get(creatorId) : undefined) ?? now,
      }),
    );
    const entries = sales.flatMap((s, i) =>
      s.paid.length || plans[i].postings.length
        ? [
            {
              kind: 'purchase',
              reference: s.reference,
              postings: [...s.paid, ...plans[i].postings],
              metadata: { orderId: s.orderId, listingId: s.listing.id, buyerId: s.buyerId, ownerId: s.ownerId, payWith: s.payWith },
            },
          ]
        : [],
    );
    const lines = sales.flatMap((s, i) => plans[i].lines.map((l) => ({ orderId: s.orderId, ...l })));
    const [posted, recorded] = await sideBySide([this.ledger.postMany(em, entries, locked), record(lines)]);
    for (const o of posted) if ('error' in o) throw o.error;
    return recorded;
  }
}
