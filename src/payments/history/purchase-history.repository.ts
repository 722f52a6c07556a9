import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';
import type { PurchaseRecord } from '../purchases/purchase.record';
import { toPurchaseRecord, TokenPurchaseRow } from '../purchases/token-purchases.repository';

export interface PurchaseCounts {
  purchases: number;
  succeeded: number;
  refunded: number;
  disputed: number;
  chargebacksLost: number;
}

interface CountsRow {
  purchases: number;
  succeeded: number;
  refunded: number;
  disputed: number;
  chargebacks_lost: number;
}

/** One user's `token_purchases`, read for reports (PaymentsHistoryService). */
@Injectable()
export class PurchaseHistoryRepository {
  async counts(db: EntityManager | DataSource, userId: string): Promise<PurchaseCounts> {
    const [r] = await queryRows<CountsRow>(
      db,
      `SELECT count(*)::int AS purchases,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE status = 'refunded')::int AS refunded,
              count(*) FILTER (WHERE dispute_id IS NOT NULL)::int AS disputed,
              count(*) FILTER (WHERE dispute_status = 'lost')::int AS chargebacks_lost
         FROM token_purchases WHERE user_id = $1`,
      [userId],
    );
    return {
      purchases: r.purchases,
      succeeded: r.succeeded,
      refunded: r.refunded,
      disputed: r.disputed,
      chargebacksLost: r.chargebacks_lost,
    };
  }

  /** What the user's paid purchases charged, per currency (refunds not deducted). */
  async chargedByCurrency(db: EntityManager | DataSource, userId: string): Promise<{ currency: string; cents: bigint }[]> {
    const rows = await queryRows<{ currency: string; cents: string }>(
      db,
      `SELECT currency, sum(price_cents)::text AS cents FROM token_purchases
        WHERE user_id = $1 AND paid_at IS NOT NULL GROUP BY currency ORDER BY currency`,
      [userId],
    );
    return rows.map((r) => ({ currency: r.currency, cents: BigInt(r.cents) }));
  }

  /** The newest purchases first. */
  async recent(db: EntityManager | DataSource, userId: string, limit: number): Promise<PurchaseRecord[]> {
    const rows = await queryRows<TokenPurchaseRow>(
      db,
      'SELECT * FROM token_purchases WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2',
      [userId, limit],
    );
    return rows.map(toPurchaseRecord);
  }

  /** The credits the user's wholesale purchases currently grant (minted into reseller stock, less what was clawed back). */
  async wholesaleGranted(db: EntityManager | DataSource, userId: string): Promise<bigint> {
    const [r] = await queryRows<{ granted: string }>(
      db,
      `SELECT COALESCE(sum(granted_credits), 0)::text AS granted FROM token_purchases WHERE user_id = $1 AND destination = 'reseller_stock'`,
      [userId],
    );
    return BigInt(r.granted);
  }
}
