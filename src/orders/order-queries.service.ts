import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rethrowBadCursor, serialCursor } from '../common/cursors';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { AdminOrdersRepository } from './admin-orders.repository';
import { AdminOrdersQuery } from './dto/orders.dto';
import { OrdersRepository } from './orders.repository';
import { InventoryItem, OrderView, toInventoryItem, toOrderView } from './orders.rows';

/** The buyer's side (own orders and the items owned) and the admins' list of orders. */
@Injectable()
export class OrderQueriesService {
  constructor(
    private readonly db: DataSource,
    private readonly repository: OrdersRepository,
    private readonly adminOrders: AdminOrdersRepository,
  ) {}

  /** GET /admin/orders: every order, newest first, each with the routes to act on it. */
  async adminList(q: AdminOrdersQuery): Promise<Page<OrderView & { links: Record<string, string> }>> {
    const page = await this.adminOrders.list(this.db, q);
    const links = (o: OrderView) => ({
      refund: `/admin/orders/${o.id}/refund`,
      listing: `/listings/${o.listingId}`,
      auditLog: `/admin/audit-log?subjectId=${o.id}`,
    });
    return { items: page.items.map((o) => ({ ...o, links: links(o) })), nextCursor: page.nextCursor };
  }

  async orders(buyerId: string, page: PageQuery): Promise<Page<OrderView>> {
    const limit = pageLimit(page);
    const rows = await this.repository.pageByBuyer(this.db, buyerId, decodeCursor(page.cursor, 2), limit + 1).catch(rethrowBadCursor);
    return toPage(rows, limit, toOrderView, (r) => [r.created_key, r.id]);
  }

  async inventory(ownerId: string, page: PageQuery): Promise<Page<InventoryItem>> {
    const limit = pageLimit(page);
    const rows = await this.repository.inventoryPage(this.db, ownerId, serialCursor(page.cursor), limit + 1);
    return toPage(rows, limit, toInventoryItem, (r) => [r.seq]);
  }
}
