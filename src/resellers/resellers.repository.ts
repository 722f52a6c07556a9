import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { ResellerStatus } from './reseller-state';

export interface Reseller {
  userId: string;
  applicationId: string;
  status: ResellerStatus;
  displayName: string;
  regions: string[];
  paymentMethods: string[];
  approvedAt: Date;
  probationEndsAt: Date;
  vettingDueAt: Date;
  lastOrderAt: Date | null;
  statusReason: string | null;
  statusChangedAt: Date;
  statusChangedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ResellerRow {
  user_id: string;
  application_id: string;
  status: ResellerStatus;
  display_name: string;
  regions: string[];
  payment_methods: string[];
  approved_at: Date;
  probation_ends_at: Date;
  vetting_due_at: Date;
  last_order_at: Date | null;
  status_reason: string | null;
  status_changed_at: Date;
  status_changed_by: string | null;
  created_at: Date;
  updated_at: Date;
}

export const toReseller = (r: ResellerRow): Reseller => ({
  userId: r.user_id,
  applicationId: r.application_id,
  status: r.status,
  displayName: r.display_name,
  regions: r.regions,
  paymentMethods: r.payment_methods,
  approvedAt: r.approved_at,
  probationEndsAt: r.probation_ends_at,
  vettingDueAt: r.vetting_due_at,
  lastOrderAt: r.last_order_at,
  statusReason: r.status_reason,
  statusChangedAt: r.status_changed_at,
  statusChangedBy: r.status_changed_by,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** `resellers`: one row per user ever approved, keyed by the user (a reseller's id is its user id). */
@Injectable()
export class ResellersRepository {
  async find(db: EntityManager | DataSource, userId: string): Promise<Reseller | undefined> {
    const [row] = await queryRows<ResellerRow>(db, 'SELECT * FROM resellers WHERE user_id = $1', [userId]);
    return row && toReseller(row);
  }

  /** Reads a reseller and locks its row until `em`'s transaction ends (status changes and orders of one reseller serialize on it). */
  async lock(em: EntityManager, userId: string): Promise<Reseller | undefined> {
    const [row] = await queryRows<ResellerRow>(em, 'SELECT * FROM resellers WHERE user_id = $1 FOR UPDATE', [userId]);
    return row && toReseller(row);
  }

  /** Records when the reseller last took an order (the bond's quiet period counts from it), in the caller's transaction. */
  async touchLastOrder(em: EntityManager, userId: string, at: Date): Promise<void> {
    await queryRows(em, 'UPDATE resellers SET last_order_at = $2, updated_at = $2 WHERE user_id = $1', [userId, at]);
  }

  /** Active resellers in id order, after `after` (the public directory). */
  async listActive(db: EntityManager | DataSource, after: string | null, limit: number): Promise<Reseller[]> {
    const rows = await queryRows<ResellerRow>(
      db,
      `SELECT * FROM resellers WHERE status = 'active' AND ($1::uuid IS NULL OR user_id > $1) ORDER BY user_id LIMIT $2`,
      [after, limit],
    );
    return rows.map(toReseller);
  }
}
