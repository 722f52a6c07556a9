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

/** What an approval writes: a new row, or a revoked one made active again. */
export interface ApprovedReseller {
  userId: string;
  applicationId: string;
  displayName: string;
  regions: string[];
  paymentMethods: string[];
  probationEndsAt: Date;
  vettingDueAt: Date;
  approvedBy: string;
  now: Date;
}

export interface ResellerListQuery {
  status: ResellerStatus | null;
  /** The user id the page before ended at. */
  after: string | null;
  limit: number;
}

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

  async insert(em: EntityManager, a: ApprovedReseller): Promise<Reseller> {
    const [row] = await queryRows<ResellerRow>(
      em,
      `INSERT INTO resellers (user_id, application_id, status, display_name, regions, payment_methods, approved_at, probation_ends_at,
                              vetting_due_at, status_changed_at, status_changed_by, created_at, updated_at)
       VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $6, $9, $6, $6) RETURNING *`,
      [a.userId, a.applicationId, a.displayName, a.regions, a.paymentMethods, a.now, a.probationEndsAt, a.vettingDueAt, a.approvedBy],
    );
    return toReseller(row);
  }

  /** A revoked reseller approved again through a new application: active, with a new probation and vetting date. */
  async reapprove(em: EntityManager, a: ApprovedReseller): Promise<Reseller> {
    const [row] = await queryRows<ResellerRow>(
      em,
      `UPDATE resellers SET application_id = $2, status = 'active', display_name = $3, regions = $4, payment_methods = $5, approved_at = $6,
              probation_ends_at = $7, vetting_due_at = $8, status_reason = NULL, status_changed_at = $6, status_changed_by = $9, updated_at = $6
        WHERE user_id = $1 RETURNING *`,
      [a.userId, a.applicationId, a.displayName, a.regions, a.paymentMethods, a.now, a.probationEndsAt, a.vettingDueAt, a.approvedBy],
    );
    return toReseller(row);
  }

  async setStatus(
    em: EntityManager,
    userId: string,
    status: ResellerStatus,
    reason: string,
    actorId: string | null,
    now: Date,
  ): Promise<Reseller> {
    const [row] = await queryRows<ResellerRow>(
      em,
      `UPDATE resellers SET status = $2, status_reason = $3, status_changed_at = $5, status_changed_by = $4, updated_at = $5
        WHERE user_id = $1 RETURNING *`,
      [userId, status, reason, actorId, now],
    );
    return toReseller(row);
  }

  async setVettingDue(em: EntityManager, userId: string, vettingDueAt: Date, now: Date): Promise<Reseller> {
    const [row] = await queryRows<ResellerRow>(
      em,
      `UPDATE resellers SET vetting_due_at = $2, updated_at = $3 WHERE user_id = $1 RETURNING *`,
      [userId, vettingDueAt, now],
    );
    return toReseller(row);
  }

  /**
   * Serializes approvals against the cap until `em`'s transaction ends: a transaction-level advisory
   * lock, so the count read after it sees every approval committed before.
   */
  async lockCap(em: EntityManager): Promise<void> {
    await queryRows(em, `SELECT pg_advisory_xact_lock(hashtextextended('resellers.cap', 0))`);
  }

  /** Resellers holding a seat under the cap: active and suspended (a suspended one can be reinstated). */
  async countSeated(em: EntityManager): Promise<number> {
    const [row] = await queryRows<{ n: number }>(em, `SELECT count(*)::int AS n FROM resellers WHERE status IN ('active', 'suspended')`);
    return row.n;
  }

  /** By user id (stable, and the index resellers_by_status serves the status filter). */
  async list(db: EntityManager | DataSource, q: ResellerListQuery): Promise<Reseller[]> {
    const rows = await queryRows<ResellerRow>(
      db,
      `SELECT * FROM resellers WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR user_id > $2) ORDER BY user_id LIMIT $3`,
      [q.status, q.after, q.limit],
    );
    return rows.map(toReseller);
  }

  /** Records when the reseller last took an order (the bond's quiet period counts from it), in the caller's transaction. */
  async touchLastOrder(em: EntityManager, userId: string, at: Date): Promise<void> {
    await queryRows(em, 'UPDATE resellers SET last_order_at = $2, updated_at = $2 WHERE user_id = $1', [userId, at]);
  }
}
