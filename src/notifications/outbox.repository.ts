import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export interface OutboxRow {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  attempts: number;
}

/** Undelivered messages: those still to be tried, those out of attempts, and the age of the oldest still to be tried. */
export interface OutboxBacklog {
  pending: number;
  dead: number;
  lagSeconds: number;
}

/** outbox_messages. Delivery times are the database's (`now()`): retries are about real time, not the business clock. */
@Injectable()
export class OutboxRepository {
  async add(db: EntityManager | DataSource, kind: string, payload: Record<string, unknown>): Promise<void> {
    await queryRows(db, 'INSERT INTO outbox_messages (kind, payload) VALUES ($1, $2::jsonb)', [kind, JSON.stringify(payload)]);
  }

  /** Locks up to `limit` messages ready for delivery, skipping those another dispatcher holds. */
  claimReady(em: EntityManager, maxAttempts: number, limit: number): Promise<OutboxRow[]> {
    return queryRows<OutboxRow>(
      em,
      `SELECT id, kind, payload, attempts FROM outbox_messages
       WHERE sent_at IS NULL AND attempts < $1 AND available_at <= now()
       ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [maxAttempts, limit],
    );
  }

  async markSent(em: EntityManager, id: string): Promise<void> {
    await queryRows(em, 'UPDATE outbox_messages SET sent_at = now(), attempts = attempts + 1 WHERE id = $1', [id]);
  }

  /** Counts the failed attempt and backs off exponentially (at most an hour). */
  async markFailed(em: EntityManager, id: string, error: string): Promise<void> {
    await queryRows(
      em,
      `UPDATE outbox_messages SET attempts = attempts + 1, last_error = $2,
       available_at = now() + make_interval(secs => least(3600, 2 ^ attempts)) WHERE id = $1`,
      [id, error],
    );
  }

  async backlog(db: EntityManager | DataSource, maxAttempts: number): Promise<OutboxBacklog> {
    const [row] = await queryRows<{ pending: number; dead: number; lag_seconds: number }>(
      db,
      `SELECT count(*) FILTER (WHERE attempts < $1)::int AS pending, count(*) FILTER (WHERE attempts >= $1)::int AS dead,
              COALESCE(EXTRACT(EPOCH FROM now() - min(created_at) FILTER (WHERE attempts < $1)), 0)::float8 AS lag_seconds
       FROM outbox_messages WHERE sent_at IS NULL`,
      [maxAttempts],
    );
    return { pending: row.pending, dead: row.dead, lagSeconds: row.lag_seconds };
  }
}
