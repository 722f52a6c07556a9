import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { queryRows } from '../database/sql';
import { rethrowBadCursor, serialCursor } from '../common/cursors';
import { ORDER_COLUMNS, OrderRow, OrderView, toOrderView } from './order.mapper';

export interface InventoryItem {
  id: string;
  listingId: string;
  title: string;
  orderId: string;
  acquiredAt: string;
  /** Set when the item was a gift. */
  giftFromUserId: string | null;
}

/** The buyer's side: own orders and the items owned. */
@Injectable()
export class OrderQueriesService {
  constructor(private readonly db: DataSource) {}

  async orders(buyerId: string, page: PageQuery): Promise<Page<OrderView>> {
    const limit = pageLimit(page);
    const after = decodeCursor(page.cursor, 2);
    const rows = await queryRows<OrderRow & { created_key: string }>(
      this.db,
      `SELECT ${ORDER_COLUMNS}, created_at::text AS created_key FROM orders
       WHERE buyer_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [buyerId, after?.[0] ?? null, after?.[1] ?? null, limit + 1],
    ).catch(rethrowBadCursor);
    return toPage(rows, limit, toOrderView, (r) => [r.created_key, r.id]);
  }

  async inventory(ownerId: string, page: PageQuery): Promise<Page<InventoryItem>> {
    const limit = pageLimit(page);
    const rows = await queryRows<{
      id: string;
      listing_id: string;
      listing_title: string;
      order_id: string;
      acquired_at: Date;
      buyer_id: string;
    }>(
      this.db,
      `SELECT i.id::text, i.listing_id, o.listing_title, i.order_id, i.acquired_at, o.buyer_id
       FROM inventory i JOIN orders o ON o.id = i.order_id
       WHERE i.owner_id = $1 AND i.revoked_at IS NULL AND ($2::bigint IS NULL OR i.id < $2::bigint)
       ORDER BY i.id DESC LIMIT $3`,
      [ownerId, serialCursor(page.cursor), limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => ({
        id: r.id,
        listingId: r.listing_id,
        title: r.listing_title,
        orderId: r.order_id,
        acquiredAt: r.acquired_at.toISOString(),
        giftFromUserId: r.buyer_id === ownerId ? null : r.buyer_id,
      }),
      (r) => [r.id],
    );
  }
}
