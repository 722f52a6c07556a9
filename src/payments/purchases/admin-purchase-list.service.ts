import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Page } from '../../common/pagination';
import { AdminPurchaseFilter, AdminTokenPurchasesRepository } from './admin-token-purchases.repository';
import { PurchaseView, purchaseView } from './purchase.record';

export type AdminPurchaseItem = PurchaseView & { links: { purchase: string; refund: string; auditLog: string } };

/** GET /admin/token-purchases: every purchase (wholesale ones too), newest first, with the routes to act on it. */
@Injectable()
export class AdminPurchaseListService {
  constructor(
    private readonly db: DataSource,
    private readonly purchases: AdminTokenPurchasesRepository,
  ) {}

  async list(q: AdminPurchaseFilter): Promise<Page<AdminPurchaseItem>> {
    const page = await this.purchases.list(this.db, q);
    return {
      items: page.items.map((p) => ({
        ...purchaseView(p, true),
        links: {
          purchase: `/token-purchases/${p.id}`,
          refund: `/admin/token-purchases/${p.id}/refund`,
          auditLog: `/admin/audit-log?subjectId=${p.id}`,
        },
      })),
      nextCursor: page.nextCursor,
    };
  }
}
