import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Page } from '../common/pagination';
import { CreatedRangePage, newestFirst, SqlConditions } from '../database/newest-first';
import type { OrderStatus } from './order-state';
import { ORDER_COLUMNS, OrderRow, OrderView, toOrderView } from './orders.rows';

export interface AdminOrderFilter extends CreatedRangePage {
  userId?: string;
  status?: OrderStatus;
}

/** `orders` as admins look for what to act on: newest first (orders_created, orders_status, orders_buyer). */
@Injectable()
export class AdminOrdersRepository {
  list(db: DataSource, f: AdminOrderFilter): Promise<Page<OrderView>> {
    const where = new SqlConditions().when(f.userId, (p) => `buyer_id = ${p}::uuid`).when(f.status, (p) => `status = ${p}`);
    return newestFirst<OrderRow, OrderView>(db, `SELECT ${ORDER_COLUMNS} FROM orders`, where, f, toOrderView);
  }
}
