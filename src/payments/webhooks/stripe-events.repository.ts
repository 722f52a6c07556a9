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

/** How an event's processing ended: its status, the purchase it was about, a note for a person. */
export interface FinishedEvent {
  id: string;
  status: StripeEventStatus;
  purchaseId: string | null;
  note: string | null;
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

  /** Records each event once (one statement): the ids recorded now, leaving out those recorded before. */
  async insertMany(em: EntityManager, events: NewStripeEvent[], receivedAt: Date): Promise<Set<string>> {
    const rows = await queryRows<{ id: string }>(
      em,
      `INSERT INTO stripe_events (id, type, livemode, stripe_created_at, payload, received_at, status)
       SELECT id, type, livemode, to_timestamp(created), payload::jsonb, $6, status
         FROM unnest($1::text[], $2::text[], $3::boolean[], $4::float8[], $5::text[], $7::text[]) AS e (id, type, livemode, created, payload, status)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => e.livemode),
        events.map((e) => e.created),
        events.map((e) => e.payload),
        receivedAt,
        events.map((e) => e.status),
      ],
      { prepare: true },
    );
    return new Set(rows.map((r) => r.id));
  }

  async find(db: EntityManager | DataSource, id: string): Promise<StripeEventRow | undefined> {
    const [row] = await queryRows<StripeEventRow>(db, 'SELECT status, payload FROM stripe_events WHERE id = $1', [id]);
    return row;
  }

  /** Locks the events' rows (in id order) until `em`'s transaction ends: the ids still queued. */
  async lockQueued(em: EntityManager, ids: string[]): Promise<Set<string>> {
    const rows = await queryRows<{ id: string; status: StripeEventStatus }>(
      em,
      'SELECT id, status FROM stripe_events WHERE id = ANY ($1::text[]) ORDER BY id FOR UPDATE',
      [ids],
      { prepare: true },
    );
    return new Set(rows.filter((r) => r.status === 'queued').map((r) => r.id));
  }

  /** Counts a failed attempt (the event stays queued for its job's retry). */
  async recordFailure(db: EntityManager | DataSource, id: string, error: string): Promise<void> {
    await queryRows(db, 'UPDATE stripe_events SET attempts = attempts + 1, last_error = $2 WHERE id = $1', [id, error]);
  }

  /** Ends queued events' processing (one statement); an event no longer queued is left as it is. */
  async finish(db: EntityManager | DataSource, done: FinishedEvent[], processedAt: Date): Promise<void> {
    if (!done.length) return;
    await queryRows(
      db,
      `UPDATE stripe_events e SET status = f.status, purchase_id = COALESCE(f.purchase_id, e.purchase_id), processed_at = $5,
         attempts = e.attempts + 1, last_error = COALESCE(f.note, e.last_error)
         FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[]) AS f (id, status, purchase_id, note)
        WHERE e.id = f.id AND e.status = 'queued'`,
      [done.map((f) => f.id), done.map((f) => f.status), done.map((f) => f.purchaseId), done.map((f) => f.note), processedAt],
      { prepare: true },
    );
  }
}
