import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { amountToJson } from '../common/money';
import { queryRows } from '../database/sql';

export interface SaleView {
  id: string;
  orderId: string;
  /** The creator's own listing in the sold item's derivation chain. */
  listingId: string;
  soldListingId: string;
  soldListingTitle: string;
  role: 'seller' | 'ancestor';
  payWith: 'CREDIT' | 'PROMO';
  asset: 'CREDIT' | 'DEV_TOKEN';
  amount: number;
  state: 'pending' | 'matured' | 'reversed';
  soldAt: string;
  maturesAt: string;
  maturedAt: string | null;
  reversedAt: string | null;
}

export interface SaleRow {
  id: string;
  /** The list's order (internal). */
  seq: string;
  order_id: string;
  listing_id: string;
  listing_title: string;
  sold_listing_id: string;
  role: SaleView['role'];
  pay_with: SaleView['payWith'];
  asset: SaleView['asset'];
  amount: string;
  status: SaleView['state'];
  created_at: Date;
  matures_at: Date;
  matured_at: Date | null;
  reversed_at: Date | null;
}

export function toSaleView(r: SaleRow): SaleView {
  return {
    id: r.id,
    orderId: r.order_id,
    listingId: r.listing_id,
    soldListingId: r.sold_listing_id,
    soldListingTitle: r.listing_title,
    role: r.role,
    payWith: r.pay_with,
    asset: r.asset,
    amount: amountToJson(r.amount),
    state: r.status,
    soldAt: r.created_at.toISOString(),
    maturesAt: r.matures_at.toISOString(),
    maturedAt: r.matured_at?.toISOString() ?? null,
    reversedAt: r.reversed_at?.toISOString() ?? null,
  };
}

/** A pending share whose maturity date has come. */
export interface DueShareRow {
  id: string;
  creator_id: string;
  amount: string;
}

/** An order's earning line, as a refund takes it back. */
export interface EarningLineRow {
  id: string;
  creator_id: string;
  asset: 'CREDIT' | 'DEV_TOKEN';
  amount: string;
  status: 'pending' | 'matured' | 'reversed';
}

export interface FirstSaleRow {
  creator_id: string;
  first_sale_at: Date;
  /** Committed by another transaction (this one's own insert may still roll back). */
  committed: boolean;
}

/** `sale_earnings` (creators' shares of sales) and `creator_first_sales`. */
@Injectable()
export class EarningsRepository {
  /** Pending shares due by `now`, locked; rows another maturation run holds are skipped. */
  async dueForUpdate(em: EntityManager, now: Date, limit: number): Promise<DueShareRow[]> {
    return queryRows<DueShareRow>(
      em,
      `SELECT id, creator_id, amount FROM sale_earnings WHERE status = 'pending' AND matures_at <= $1
       ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    );
  }

  async markMatured(em: EntityManager, ids: string[], at: Date): Promise<void> {
    await queryRows(em, `UPDATE sale_earnings SET status = 'matured', matured_at = $2 WHERE id = ANY ($1::uuid[])`, [ids, at]);
  }

  /** The order's lines not reversed yet, locked (in seq order). */
  async linesOfOrderForUpdate(em: EntityManager, orderId: string): Promise<EarningLineRow[]> {
    return queryRows<EarningLineRow>(
      em,
      `SELECT id, creator_id, asset, amount, status FROM sale_earnings WHERE order_id = $1 AND status <> 'reversed' ORDER BY seq FOR UPDATE`,
      [orderId],
    );
  }

  async markReversed(em: EntityManager, ids: string[], at: Date): Promise<void> {
    await queryRows(em, `UPDATE sale_earnings SET status = 'reversed', reversed_at = $2 WHERE id = ANY ($1::uuid[])`, [ids, at]);
  }

  /** A page of the creator's shares, newest first (keyset on the line seq). */
  async salesPage(db: EntityManager | DataSource, creatorId: string, before: string | null, limit: number): Promise<SaleRow[]> {
    return queryRows<SaleRow>(
      db,
      `SELECT e.id, e.seq::text, e.order_id, e.listing_id, o.listing_title, o.listing_id AS sold_listing_id, e.role, o.pay_with, e.asset, e.amount,
         e.status, e.created_at, e.matures_at, e.matured_at, e.reversed_at
       FROM sale_earnings e JOIN orders o ON o.id = e.order_id
       WHERE e.creator_id = $1 AND ($2::bigint IS NULL OR e.seq < $2::bigint)
       ORDER BY e.seq DESC LIMIT $3`,
      [creatorId, before, limit],
    );
  }

  /**
   * Records `now` as the first sale of the creators that had none (inserted in the order given), and
   * answers every one's first sale that this statement can see. A concurrent first sale's row may be
   * invisible to its snapshot.
   */
  async recordFirstSales(em: EntityManager, creatorIds: string[], now: Date): Promise<FirstSaleRow[]> {
    return queryRows<FirstSaleRow>(
      em,
      `WITH added AS (
         INSERT INTO creator_first_sales (creator_id, first_sale_at) SELECT unnest($1::uuid[]), $2::timestamptz
         ON CONFLICT (creator_id) DO NOTHING RETURNING creator_id, first_sale_at)
       SELECT creator_id::text, first_sale_at, false AS committed FROM added
       UNION ALL SELECT creator_id::text, first_sale_at, xmin <> pg_current_xact_id()::xid
         FROM creator_first_sales WHERE creator_id = ANY ($1::uuid[])`,
      [creatorIds, now],
      { prepare: true },
    );
  }
}
