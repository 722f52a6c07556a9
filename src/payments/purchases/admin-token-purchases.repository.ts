import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Page } from '../../common/pagination';
import { CreatedRangePage, newestFirst, SqlConditions } from '../../database/newest-first';
import type { PurchaseRecord } from './purchase.record';
import type { PurchaseStatus } from './purchase-state';
import { TokenPurchaseRow, toPurchaseRecord } from './token-purchases.repository';

export interface AdminPurchaseFilter extends CreatedRangePage {
  userId?: string;
  status?: PurchaseStatus;
}

/** `token_purchases` as admins look for what to act on: newest first (token_purchases_created, _status, _user). */
@Injectable()
export class AdminTokenPurchasesRepository {
  list(db: DataSource, f: AdminPurchaseFilter): Promise<Page<PurchaseRecord>> {
    const where = new SqlConditions().when(f.userId, (p) => `user_id = ${p}::uuid`).when(f.status, (p) => `status = ${p}`);
    return newestFirst<TokenPurchaseRow, PurchaseRecord>(db, 'SELECT * FROM token_purchases', where, f, toPurchaseRecord);
  }
}
