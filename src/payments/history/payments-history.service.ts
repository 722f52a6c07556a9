import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { amountToJson } from '../../common/money';
import type { PurchaseRecord } from '../purchases/purchase.record';
import { PurchaseCounts, PurchaseHistoryRepository } from './purchase-history.repository';

const RECENT = 20;

/** One purchase in a history report. */
export interface PurchaseSummary {
  id: string;
  status: PurchaseRecord['status'];
  priceCents: number;
  currency: string;
  credits: number;
  destination: PurchaseRecord['destination'];
  createdAt: string;
  dispute: { id: string; status: PurchaseRecord['disputeStatus'] } | null;
}

/** A user's purchase and dispute history, JSON-ready (numbers and ISO times), for a report stored as it is. */
export interface PurchaseHistory extends PurchaseCounts {
  /** What the user's paid purchases charged, per currency, refunds not deducted: `{ USD: 999 }`. */
  totalCentsByCurrency: Record<string, number>;
  /** The last 20 purchases, newest first. */
  recent: PurchaseSummary[];
}

const summary = (p: PurchaseRecord): PurchaseSummary => ({
  id: p.id,
  status: p.status,
  priceCents: amountToJson(p.priceCents),
  currency: p.currency,
  credits: amountToJson(p.credits),
  destination: p.destination,
  createdAt: p.createdAt.toISOString(),
  dispute: p.disputeId ? { id: p.disputeId, status: p.disputeStatus } : null,
});

/**
 * Reads of a user's purchases for other modules (the resellers module's application check report and
 * its stock invariant). `db`: the caller's transaction, to read in its snapshot; the pool otherwise.
 */
@Injectable()
export class PaymentsHistoryService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly history: PurchaseHistoryRepository,
  ) {}

  /**
   * Counts of every purchase of the user, by outcome: `purchases` (all, pending and failed too),
   * `succeeded` and `refunded` (current status), `disputed` (a dispute was ever opened, whatever its
   * outcome) and `chargebacksLost` (disputes lost); the charged totals and the last 20 purchases.
   */
  async forUser(userId: string, db: EntityManager | DataSource = this.dataSource): Promise<PurchaseHistory> {
    const counts = await this.history.counts(db, userId);
    const charged = await this.history.chargedByCurrency(db, userId);
    const recent = await this.history.recent(db, userId, RECENT);
    return {
      ...counts,
      totalCentsByCurrency: Object.fromEntries(charged.map((c) => [c.currency, amountToJson(c.cents)])),
      recent: recent.map(summary),
    };
  }

  /**
   * The credits granted and still standing from the user's wholesale purchases: the sum of what each
   * currently grants (minted into `reseller_stock`, less refunds' and disputes' clawbacks). A clawback
   * takes from `reseller_stock` first, so this equals what the stock received net as long as no
   * clawback had to reach past the stock into `wallet`, `earnings` or `debt` (and so no dispute won
   * later repaid that debt or restored those earnings instead of the stock).
   */
  wholesaleCredited(userId: string, db: EntityManager | DataSource = this.dataSource): Promise<bigint> {
    return this.history.wholesaleGranted(db, userId);
  }
}
