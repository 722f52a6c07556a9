import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { sortedBy } from '../common/compare';
import { queryRows } from '../database/sql';
import { OrderStatus } from './order-state';
import { InventoryRow, ORDER_COLUMNS, OrderRow } from './orders.rows';
import { EarningLine, PayWith } from './sale-plan';

/** An order as a purchase writes it. */
export interface NewOrder {
  id: string;
  buyerId: string;
  ownerId: string;
  listingId: string;
  listingTitle: string;
  sellerId: string;
  payWith: PayWith;
  price: bigint;
  derivationCost: bigint;
  profit: bigint;
  platformFee: bigint;
  /** Where the buyer's funds came from, by sub-account ({"wallet": "900", "earnings": "100"}). */
  paidFrom: Record<string, string>;
  idempotencyKey: string;
  status: Extract<OrderStatus, 'completed' | 'held_for_review'>;
  /** The ledger holds reserving the buyer's funds (a held order). */
  reviewHoldIds: string[];
}

/** One creator's part of an order, as `sale_earnings` records it. */
export type NewEarningLine = EarningLine & { orderId: string };

export interface Ownership {
  ownerId: string;
  listingId: string;
  orderId: string;
}

export const ownershipKey = (ownerId: string, listingId: string): string => `${ownerId}/${listingId}`;

/** The `sale_earnings` insert, its parameters numbered from `$base` (the sale time is always `$1`). */
function earningsInsert(base: number): string {
  const p = (i: number) => `$${base + i}`;
  return `INSERT INTO sale_earnings (order_id, creator_id, listing_id, role, asset, amount, status, created_at, matures_at, matured_at)
    SELECT x.order_id, x.creator_id, x.listing_id, x.role, x.asset, x.amount, x.status, $1, x.matures_at, x.matured_at
      FROM unnest(${p(0)}::uuid[], ${p(1)}::uuid[], ${p(2)}::uuid[], ${p(3)}::text[], ${p(4)}::text[], ${p(5)}::bigint[], ${p(6)}::text[],
                  ${p(7)}::timestamptz[], ${p(8)}::timestamptz[])
        AS x(order_id, creator_id, listing_id, role, asset, amount, status, matures_at, matured_at)`;
}

function earningsParams(lines: NewEarningLine[]): unknown[] {
  const col = <K extends keyof NewEarningLine>(k: K) => lines.map((x) => x[k]);
  return [
    col('orderId'),
    col('creatorId'),
    col('listingId'),
    col('role'),
    col('asset'),
    col('amount').map(String),
    col('status'),
    col('maturesAt'),
    col('maturedAt'),
  ];
}

/** `orders` and `inventory`: what was bought, and who owns which item. */
@Injectable()
export class OrdersRepository {
  /**
   * Ownership rows (inserted in a fixed order, against lock cycles between batches); answers the order
   * ids that got theirs. A concurrent purchase of the same item for the same owner waits on the unique
   * index and, once the other commits, finds the item owned.
   */
  async insertOwnership(em: EntityManager, rows: Ownership[], acquiredAt: Date): Promise<Set<string>> {
    const sorted = sortedBy(rows, (r) => ownershipKey(r.ownerId, r.listingId));
    const got = await queryRows<{ order_id: string }>(
      em,
      `INSERT INTO inventory (owner_id, listing_id, order_id, acquired_at)
       SELECT owner_id, listing_id, order_id, $4 FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) WITH ORDINALITY AS t(owner_id, listing_id, order_id, ord)
        ORDER BY ord
       ON CONFLICT (owner_id, listing_id) WHERE revoked_at IS NULL DO NOTHING RETURNING order_id`,
      [sorted.map((r) => r.ownerId), sorted.map((r) => r.listingId), sorted.map((r) => r.orderId), acquiredAt],
      { prepare: true },
    );
    return new Set(got.map((r) => r.order_id));
  }

  /** Orders and their creators' earning lines, in one statement. */
  async insertWithEarnings(em: EntityManager, orders: NewOrder[], lines: NewEarningLine[], now: Date): Promise<void> {
    const o = <T>(f: (n: NewOrder) => T) => orders.map(f);
    await queryRows(
      em,
      `WITH o AS (
         INSERT INTO orders (id, buyer_id, owner_id, listing_id, listing_title, seller_id, pay_with, price, derivation_cost, profit,
           platform_fee, paid_from, status, review_hold_ids, idempotency_key, created_at)
         SELECT id, buyer_id, owner_id, listing_id, listing_title, seller_id, pay_with, price, derivation_cost, profit,
           platform_fee, paid_from::jsonb, status, hold_ids::uuid[], idempotency_key, $1
           FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[], $7::uuid[], $8::text[], $9::bigint[], $10::bigint[],
                       $11::bigint[], $12::bigint[], $13::text[], $14::text[], $15::text[], $16::text[])
                AS t(id, buyer_id, owner_id, listing_id, listing_title, seller_id, pay_with, price, derivation_cost, profit, platform_fee,
                     paid_from, status, hold_ids, idempotency_key))
       ${earningsInsert(17)}`,
      [
        now,
        o((n) => n.id),
        o((n) => n.buyerId),
        o((n) => n.ownerId),
        o((n) => n.listingId),
        o((n) => n.listingTitle),
        o((n) => n.sellerId),
        o((n) => n.payWith),
        o((n) => n.price.toString()),
        o((n) => n.derivationCost.toString()),
        o((n) => n.profit.toString()),
        o((n) => n.platformFee.toString()),
        o((n) => JSON.stringify(n.paidFrom)),
        o((n) => n.status),
        o((n) => `{${n.reviewHoldIds.join(',')}}`),
        o((n) => n.idempotencyKey),
        ...earningsParams(lines),
      ],
      { prepare: true },
    );
  }

  /** The creators' earning lines of orders written before (a held order, once approved). */
  async insertEarnings(em: EntityManager, lines: NewEarningLine[], now: Date): Promise<void> {
    if (!lines.length) return;
    await queryRows(em, earningsInsert(2), [now, ...earningsParams(lines)], { prepare: true });
  }

  /** Which of these (owner, listing) pairs are owned right now. */
  async owned(em: EntityManager, pairs: Omit<Ownership, 'orderId'>[]): Promise<Set<string>> {
    if (!pairs.length) return new Set();
    const rows = await queryRows<{ owner_id: string; listing_id: string }>(
      em,
      `SELECT i.owner_id, i.listing_id FROM unnest($1::uuid[], $2::uuid[]) AS p(owner_id, listing_id)
         JOIN inventory i ON i.owner_id = p.owner_id AND i.listing_id = p.listing_id AND i.revoked_at IS NULL`,
      [pairs.map((p) => p.ownerId), pairs.map((p) => p.listingId)],
    );
    return new Set(rows.map((r) => ownershipKey(r.owner_id, r.listing_id)));
  }

  /** A page of the buyer's orders, newest first (keyset on created_at, id). */
  async pageByBuyer(
    db: EntityManager | DataSource,
    buyerId: string,
    after: unknown[] | undefined,
    limit: number,
  ): Promise<(OrderRow & { created_key: string })[]> {
    return queryRows<OrderRow & { created_key: string }>(
      db,
      `SELECT ${ORDER_COLUMNS}, created_at::text AS created_key FROM orders
       WHERE buyer_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [buyerId, after?.[0] ?? null, after?.[1] ?? null, limit],
    );
  }

  /** A page of the items the owner holds, newest first (keyset on the inventory seq). */
  async inventoryPage(db: EntityManager | DataSource, ownerId: string, before: string | null, limit: number): Promise<InventoryRow[]> {
    return queryRows<InventoryRow>(
      db,
      `SELECT i.id, i.seq::text, i.owner_id, i.listing_id, o.listing_title, i.order_id, i.acquired_at, o.buyer_id
       FROM inventory i JOIN orders o ON o.id = i.order_id
       WHERE i.owner_id = $1 AND i.revoked_at IS NULL AND ($2::bigint IS NULL OR i.seq < $2::bigint)
       ORDER BY i.seq DESC LIMIT $3`,
      [ownerId, before, limit],
    );
  }

  async findForUpdate(em: EntityManager, orderId: string): Promise<OrderRow | undefined> {
    const [order] = await queryRows<OrderRow>(em, `SELECT ${ORDER_COLUMNS} FROM orders WHERE id = $1 FOR UPDATE`, [orderId]);
    return order;
  }

  /** A held order decided: approved, rejected or cancelled. */
  async markStatus(em: EntityManager, orderId: string, status: OrderStatus): Promise<OrderRow> {
    const [updated] = await queryRows<OrderRow>(em, `UPDATE orders SET status = $2 WHERE id = $1 RETURNING ${ORDER_COLUMNS}`, [
      orderId,
      status,
    ]);
    return updated;
  }

  async markRefunded(
    em: EntityManager,
    orderId: string,
    refund: { status: OrderStatus; at: Date; by: string; reason: string; chargedCreator: boolean },
  ): Promise<OrderRow> {
    const [updated] = await queryRows<OrderRow>(
      em,
      `UPDATE orders SET status = $2, refunded_at = $3, refunded_by = $4, refund_reason = $5, refund_charged_creator = $6
       WHERE id = $1 RETURNING ${ORDER_COLUMNS}`,
      [orderId, refund.status, refund.at, refund.by, refund.reason, refund.chargedCreator],
    );
    return updated;
  }

  /** The order's item leaves its owner's inventory. */
  async revokeOwnership(em: EntityManager, orderId: string, at: Date): Promise<void> {
    await queryRows(em, 'UPDATE inventory SET revoked_at = $2 WHERE order_id = $1 AND revoked_at IS NULL', [orderId, at]);
  }
}
