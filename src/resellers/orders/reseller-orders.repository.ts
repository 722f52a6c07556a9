import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';
import {
  OrderActorRole,
  ResellerOrderStatus,
  UNDELIVERED_END_STATUSES,
  UNPAID_ORDER_STATUSES,
  UNSETTLED_ORDER_STATUSES,
} from './reseller-order-state';

type Db = EntityManager | DataSource;

export interface ResellerOrder {
  id: string;
  resellerId: string;
  buyerId: string;
  amount: bigint;
  status: ResellerOrderStatus;
  paymentReference: string | null;
  cancelReason: string | null;
  cancelledBy: string | null;
  cancelledByRole: 'buyer' | 'reseller' | null;
  disputeReason: string | null;
  disputeOpenedBy: string | null;
  disputeOpenedByRole: 'buyer' | 'system' | null;
  resolutionNote: string | null;
  resolvedBy: string | null;
  bondPaid: bigint;
  debtAdded: bigint;
  openedAt: Date;
  paidAt: Date | null;
  confirmedAt: Date | null;
  disputedAt: Date | null;
  closedAt: Date | null;
  expiresAt: Date;
  confirmDueAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ResellerOrderRow {
  id: string;
  reseller_id: string;
  buyer_id: string;
  amount: string;
  status: ResellerOrderStatus;
  payment_reference: string | null;
  cancel_reason: string | null;
  cancelled_by: string | null;
  cancelled_by_role: 'buyer' | 'reseller' | null;
  dispute_reason: string | null;
  dispute_opened_by: string | null;
  dispute_opened_by_role: 'buyer' | 'system' | null;
  resolution_note: string | null;
  resolved_by: string | null;
  bond_paid: string;
  debt_added: string;
  opened_at: Date;
  paid_at: Date | null;
  confirmed_at: Date | null;
  disputed_at: Date | null;
  closed_at: Date | null;
  expires_at: Date;
  confirm_due_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export const toResellerOrder = (r: ResellerOrderRow): ResellerOrder => ({
  id: r.id,
  resellerId: r.reseller_id,
  buyerId: r.buyer_id,
  amount: BigInt(r.amount),
  status: r.status,
  paymentReference: r.payment_reference,
  cancelReason: r.cancel_reason,
  cancelledBy: r.cancelled_by,
  cancelledByRole: r.cancelled_by_role,
  disputeReason: r.dispute_reason,
  disputeOpenedBy: r.dispute_opened_by,
  disputeOpenedByRole: r.dispute_opened_by_role,
  resolutionNote: r.resolution_note,
  resolvedBy: r.resolved_by,
  bondPaid: BigInt(r.bond_paid),
  debtAdded: BigInt(r.debt_added),
  openedAt: r.opened_at,
  paidAt: r.paid_at,
  confirmedAt: r.confirmed_at,
  disputedAt: r.disputed_at,
  closedAt: r.closed_at,
  expiresAt: r.expires_at,
  confirmDueAt: r.confirm_due_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface OrderEvent {
  id: string;
  orderId: string;
  at: Date;
  fromStatus: ResellerOrderStatus | null;
  toStatus: ResellerOrderStatus;
  actorId: string | null;
  actorRole: OrderActorRole;
  note: string | null;
  data: Record<string, unknown>;
}

interface OrderEventRow {
  id: string;
  order_id: string;
  at: Date;
  from_status: ResellerOrderStatus | null;
  to_status: ResellerOrderStatus;
  actor_id: string | null;
  actor_role: OrderActorRole;
  note: string | null;
  data: Record<string, unknown>;
}

const toOrderEvent = (r: OrderEventRow): OrderEvent => ({
  id: r.id,
  orderId: r.order_id,
  at: r.at,
  fromStatus: r.from_status,
  toStatus: r.to_status,
  actorId: r.actor_id,
  actorRole: r.actor_role,
  note: r.note,
  data: r.data,
});

export type NewOrderEvent = Omit<OrderEvent, 'id'>;

/** What the scorecard counts of one reseller's orders opened in its window. */
export interface OrderStats {
  orders: number;
  paid: number;
  confirmed: number;
  disputes: number;
  disputesLost: number;
  disputesWon: number;
  cancelledByReseller: number;
  cancelledByBuyer: number;
  expired: number;
  medianConfirmSeconds: number | null;
}

interface OrderStatsRow {
  reseller_id: string;
  orders: number;
  paid: number;
  confirmed: number;
  disputes: number;
  disputes_lost: number;
  disputes_won: number;
  cancelled_by_reseller: number;
  cancelled_by_buyer: number;
  expired: number;
  median_confirm_seconds: number | null;
}

const toOrderStats = (r: OrderStatsRow): OrderStats => ({
  orders: r.orders,
  paid: r.paid,
  confirmed: r.confirmed,
  disputes: r.disputes,
  disputesLost: r.disputes_lost,
  disputesWon: r.disputes_won,
  cancelledByReseller: r.cancelled_by_reseller,
  cancelledByBuyer: r.cancelled_by_buyer,
  expired: r.expired,
  medianConfirmSeconds: r.median_confirm_seconds,
});

export interface OrderListFilter {
  status: ResellerOrderStatus | null;
  resellerId: string | null;
  buyerId: string | null;
  /** Continue after this (opened_at, id). */
  after: [string, string] | null;
  limit: number;
}

const UPDATE_COLUMNS: [keyof ResellerOrderRow, (o: ResellerOrder) => unknown][] = [
  ['status', (o) => o.status],
  ['payment_reference', (o) => o.paymentReference],
  ['cancel_reason', (o) => o.cancelReason],
  ['cancelled_by', (o) => o.cancelledBy],
  ['cancelled_by_role', (o) => o.cancelledByRole],
  ['dispute_reason', (o) => o.disputeReason],
  ['dispute_opened_by', (o) => o.disputeOpenedBy],
  ['dispute_opened_by_role', (o) => o.disputeOpenedByRole],
  ['resolution_note', (o) => o.resolutionNote],
  ['resolved_by', (o) => o.resolvedBy],
  ['bond_paid', (o) => o.bondPaid.toString()],
  ['debt_added', (o) => o.debtAdded.toString()],
  ['paid_at', (o) => o.paidAt],
  ['confirmed_at', (o) => o.confirmedAt],
  ['disputed_at', (o) => o.disputedAt],
  ['closed_at', (o) => o.closedAt],
  ['expires_at', (o) => o.expiresAt],
  ['confirm_due_at', (o) => o.confirmDueAt],
  ['updated_at', (o) => o.updatedAt],
];
const UPDATE_SQL = `UPDATE reseller_orders SET ${UPDATE_COLUMNS.map(([c], i) => `${c} = $${i + 2}`).join(', ')} WHERE id = $1 RETURNING *`;

/** `reseller_orders` and their history `reseller_order_events`. */
@Injectable()
export class ResellerOrdersRepository {
  async insert(em: EntityManager, o: ResellerOrder): Promise<ResellerOrder> {
    const [row] = await queryRows<ResellerOrderRow>(
      em,
      `INSERT INTO reseller_orders (id, reseller_id, buyer_id, amount, status, opened_at, expires_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING *`,
      [o.id, o.resellerId, o.buyerId, o.amount.toString(), o.status, o.openedAt, o.expiresAt, o.createdAt],
    );
    return toResellerOrder(row);
  }

  async find(db: Db, id: string): Promise<ResellerOrder | undefined> {
    const [row] = await queryRows<ResellerOrderRow>(db, 'SELECT * FROM reseller_orders WHERE id = $1', [id]);
    return row && toResellerOrder(row);
  }

  /** Reads the order and locks its row until `em`'s transaction ends: every transition of one order is decided once. */
  async lock(em: EntityManager, id: string): Promise<ResellerOrder | undefined> {
    const [row] = await queryRows<ResellerOrderRow>(em, 'SELECT * FROM reseller_orders WHERE id = $1 FOR UPDATE', [id]);
    return row && toResellerOrder(row);
  }

  /** Writes every mutable column of the order (the trigger refuses an edge the state machine does not have). */
  async save(em: EntityManager, o: ResellerOrder): Promise<ResellerOrder> {
    const [row] = await queryRows<ResellerOrderRow>(em, UPDATE_SQL, [o.id, ...UPDATE_COLUMNS.map(([, v]) => v(o))]);
    return toResellerOrder(row);
  }

  async insertEvent(em: EntityManager, e: NewOrderEvent): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO reseller_order_events (order_id, at, from_status, to_status, actor_id, actor_role, note, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
      [e.orderId, e.at, e.fromStatus, e.toStatus, e.actorId, e.actorRole, e.note, JSON.stringify(e.data)],
    );
  }

  async events(db: Db, orderId: string): Promise<OrderEvent[]> {
    const rows = await queryRows<OrderEventRow>(db, 'SELECT * FROM reseller_order_events WHERE order_id = $1 ORDER BY id', [orderId]);
    return rows.map(toOrderEvent);
  }

  /** Serializes one buyer's order openings until the transaction ends (the cap on unpaid orders stays exact). */
  async lockBuyer(em: EntityManager, buyerId: string): Promise<void> {
    await queryRows(em, `SELECT pg_advisory_xact_lock(hashtextextended('reseller_orders:buyer:' || $1, 0))`, [buyerId]);
  }

  async unpaidCountOfBuyer(em: EntityManager, buyerId: string): Promise<number> {
    const [{ n }] = await queryRows<{ n: number }>(
      em,
      'SELECT count(*)::int AS n FROM reseller_orders WHERE buyer_id = $1 AND status = ANY($2)',
      [buyerId, UNPAID_ORDER_STATUSES],
    );
    return n;
  }

  /** What the reseller's orders opened since `since` that did not end undelivered amount to. */
  async openedSince(em: EntityManager, resellerId: string, since: Date): Promise<bigint> {
    const [{ total }] = await queryRows<{ total: string }>(
      em,
      `SELECT coalesce(sum(amount), 0)::text AS total FROM reseller_orders
        WHERE reseller_id = $1 AND opened_at > $2 AND NOT status = ANY($3)`,
      [resellerId, since, UNDELIVERED_END_STATUSES],
    );
    return BigInt(total);
  }

  /** Orders still binding the reseller: unsettled ones, and confirmed ones a buyer may still dispute (confirmed after `disputableSince`). */
  async binding(em: EntityManager, resellerId: string, disputableSince: Date): Promise<{ unsettled: number; disputable: number }> {
    const [row] = await queryRows<{ unsettled: number; disputable: number }>(
      em,
      `SELECT count(*) FILTER (WHERE status = ANY($2))::int AS unsettled,
              count(*) FILTER (WHERE status = 'confirmed' AND confirmed_at > $3)::int AS disputable
         FROM reseller_orders WHERE reseller_id = $1 AND (status = ANY($2) OR status = 'confirmed')`,
      [resellerId, UNSETTLED_ORDER_STATUSES, disputableSince],
    );
    return row;
  }

  /** Claims up to `limit` orders in `status` whose `column` is due by `now`, locked, skipping rows another transaction holds. */
  private async claimDue(
    em: EntityManager,
    status: ResellerOrderStatus,
    column: 'expires_at' | 'confirm_due_at',
    now: Date,
    limit: number,
  ) {
    const rows = await queryRows<ResellerOrderRow>(
      em,
      `SELECT * FROM reseller_orders WHERE status = $1 AND ${column} <= $2 ORDER BY ${column}, id LIMIT $3 FOR UPDATE SKIP LOCKED`,
      [status, now, limit],
    );
    return rows.map(toResellerOrder);
  }

  claimExpired(em: EntityManager, now: Date, limit: number): Promise<ResellerOrder[]> {
    return this.claimDue(em, 'open', 'expires_at', now, limit);
  }

  claimUnconfirmed(em: EntityManager, now: Date, limit: number): Promise<ResellerOrder[]> {
    return this.claimDue(em, 'paid', 'confirm_due_at', now, limit);
  }

  /** Oldest first (a queue to work through). */
  async list(db: Db, f: OrderListFilter): Promise<ResellerOrder[]> {
    const rows = await queryRows<ResellerOrderRow>(
      db,
      `SELECT * FROM reseller_orders
        WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR reseller_id = $2) AND ($3::uuid IS NULL OR buyer_id = $3)
          AND ($4::timestamptz IS NULL OR (opened_at, id) > ($4::timestamptz, $5::uuid))
        ORDER BY opened_at, id LIMIT $6`,
      [f.status, f.resellerId, f.buyerId, f.after?.[0] ?? null, f.after?.[1] ?? null, f.limit],
    );
    return rows.map(toResellerOrder);
  }

  /** Per reseller, the counts of its orders opened in [since, until) (resellers without such orders are absent). */
  async stats(db: Db, resellerIds: string[], since: Date, until: Date): Promise<Map<string, OrderStats>> {
    const rows = await queryRows<OrderStatsRow>(
      db,
      `SELECT reseller_id,
              count(*)::int AS orders,
              count(*) FILTER (WHERE paid_at IS NOT NULL OR confirmed_at IS NOT NULL)::int AS paid,
              count(*) FILTER (WHERE confirmed_at IS NOT NULL)::int AS confirmed,
              count(*) FILTER (WHERE disputed_at IS NOT NULL)::int AS disputes,
              count(*) FILTER (WHERE status = 'resolved_buyer')::int AS disputes_lost,
              count(*) FILTER (WHERE status = 'resolved_reseller')::int AS disputes_won,
              count(*) FILTER (WHERE status = 'cancelled' AND cancelled_by_role = 'reseller')::int AS cancelled_by_reseller,
              count(*) FILTER (WHERE status = 'cancelled' AND cancelled_by_role = 'buyer')::int AS cancelled_by_buyer,
              count(*) FILTER (WHERE status = 'expired')::int AS expired,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM confirmed_at - coalesce(paid_at, opened_at)))
                FILTER (WHERE confirmed_at IS NOT NULL)::float8 AS median_confirm_seconds
         FROM reseller_orders
        WHERE reseller_id = ANY($1::uuid[]) AND opened_at >= $2 AND opened_at < $3
        GROUP BY reseller_id`,
      [resellerIds, since, until],
    );
    return new Map(rows.map((r) => [r.reseller_id, toOrderStats(r)]));
  }
}
