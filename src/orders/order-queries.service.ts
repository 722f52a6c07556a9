import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { rethrowBadCursor, serialCursor } from '../common/cursors';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { OrdersRepository } from './orders.repository';
import { InventoryItem, OrderView, toInventoryItem, toOrderView } from './orders.rows';

/** The buyer's side: own orders and the items owned. */
@Injectable()
export class OrderQueriesService {
  constructor(
    private readonly db: DataSource,
    private readonly repository: OrdersRepository,
  ) {}

  async orders(buyerId: string, page: PageQuery): Promise<Page<OrderView>> {
    const limit = pageLimit(page);
    const rows = await this.repository.pageByBuyer(this.db, buyerId, decodeCursor(page.cursor, 2), limit + 1).catch(rethrowBadCursor);
    return toPage(rows, limit, toOrderView, (r) => [r.created_key, r.id]);
  }

  async inventory(ownerId: string, page: PageQuery): Promise<Page<InventoryItem>> {
    const limit = pageLimit(page);
    const rows = await this.repository.inventoryPage(this.db, ownerId, serialCursor(page.cursor), limit + 1);
    return toPage(rows, limit, toInventoryItem, (r) => [r.id]);
  }
}
