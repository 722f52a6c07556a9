import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';

export type StripeEventStatus = 'queued' | 'processed' | 'ignored' | 'rejected';

/** A received event as Stripe sent it (the raw body is stored as the payload). */
export interface NewStripeEvent {
  id: string;
  type: string;
  livemode: boolean;
  /** Stripe's `created`, in Unix seconds. */
  created: number;
  payload: string;
  status: StripeEventStatus;
}

export interface StripeEventRow {
  status: StripeEventStatus;
  payload: unknown;
}

/** `stripe_events`: the webhook inbox, one row per Stripe event id. */
@Injectable()
export class StripeEventsRepository {
  /** Ids of events still queued that were received before `before`, oldest first (at most 500). */
  async queuedBefore(db: EntityManager | DataSource, before: Date): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(
      db,
      `SELECT id FROM stripe_events WHERE status = 'queued' AND received_at < $1 ORDER BY received_at LIMIT 500`,
      [before],
    );
    return rows.map((r) => r.id);
  }

  /** Records the event once: false when its id was already recorded. */
  async insert(em: EntityManager, e: NewStripeEvent, receivedAt: Date): Promise<boolean> {
    const rows = await queryRows(
      em,
      `INSERT INTO stripe_events (id, type, livemode, stripe_created_at, payload, received_at, status)
       VALUES ($1, $2, $3, to_timestamp($4), $5::jsonb, $6, $7)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [e.id, e.type, e.livemode, e.created, e.payload, receivedAt, e.status],
    );
    return rows.length > 0;
  }

  async find(db: EntityManager | DataSource, id: string): Promise<StripeEventRow | undefined> {
    const [row] = await queryRows<StripeEventRow>(db, 'SELECT status, payload FROM stripe_events WHERE id = $1', [id]);
    return row;
  }

  /** Locks the event's row until `em`'s transaction ends and reads its status. */
  async lockStatus(em: EntityManager, id: string): Promise<StripeEventStatus | undefined> {
    const [row] = await queryRows<{ status: StripeEventStatus }>(em, 'SELECT status FROM stripe_events WHERE id = $1 FOR UPDATE', [id]);
    return row?.status;
  }

  /** Counts a failed attempt (the event stays queued for its job's retry). */
  async recordFailure(db: EntityManager | DataSource, id: string, error: string): Promise<void> {
    await queryRows(db, 'UPDATE stripe_events SET attempts = attempts + 1, last_error = $2 WHERE id = $1', [id, error]);
  }

  /** Ends a queued event's processing; an event no longer queued is left as it is. */
  async finish(
    db: EntityManager | DataSource,
    id: string,
    f: { status: StripeEventStatus; purchaseId: string | null; note: string | null },
    processedAt: Date,
  ): Promise<void> {
    await queryRows(
      db,
      `UPDATE stripe_events SET status = $2, purchase_id = COALESCE($3, purchase_id), processed_at = $4, attempts = attempts + 1,
         last_error = COALESCE($5, last_error) WHERE id = $1 AND status = 'queued'`,
      [id, f.status, f.purchaseId, processedAt, f.note],
    );
  }
}
