import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Page } from '../common/pagination';
import { userView, UserView } from '../identity/dto/user.view';
import { AdminUserFilter, AdminUserListRepository } from './admin-user-list.repository';

export type AdminUserItem = UserView & { onHold: boolean; links: Record<string, string> };

/** GET /admin/users: users newest first, each with its hold flag and the routes to act on it or look further. */
@Injectable()
export class AdminUserListService {
  constructor(
    private readonly db: DataSource,
    private readonly users: AdminUserListRepository,
  ) {}

  async list(q: AdminUserFilter): Promise<Page<AdminUserItem>> {
    const page = await this.users.list(this.db, q);
    return {
      items: page.items.map((u) => ({ ...userView(u), onHold: u.onHold, links: userLinks(u.id) })),
      nextCursor: page.nextCursor,
    };
  }
}

function userLinks(id: string): Record<string, string> {
  const admin = `/admin/users/${id}`;
  return {
    hold: `${admin}/hold`,
    release: `${admin}/release`,
    roles: `${admin}/roles`,
    orders: `/admin/orders?userId=${id}`,
    tokenPurchases: `/admin/token-purchases?userId=${id}`,
    fraudDecisions: `/admin/fraud/decisions?userId=${id}`,
    auditLog: `/admin/audit-log?subjectId=${id}`,
  };
}
