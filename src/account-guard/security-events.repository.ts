import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { SecurityEventKind } from './security-events.service';

export interface NewSecurityEvent {
  userId: string;
  occurredAt: Date;
  kind: SecurityEventKind;
  ip: string | null;
  data: Record<string, unknown>;
}

export interface SecurityEventRow {
  id: string;
  /** The list's order (internal). */
  seq: string;
  kind: SecurityEventKind;
  occurred_at: Date;
  ip: string | null;
  data: Record<string, unknown>;
}

/** security_events: the append-only security history of each account. */
@Injectable()
export class SecurityEventsRepository {
  /** Inserts the event; answers the account's email (undefined when the user is gone) for its notice. */
  async insert(em: EntityManager, e: NewSecurityEvent): Promise<string | undefined> {
    const rows = await queryRows<{ email: string | null }>(
      em,
      `INSERT INTO security_events (user_id, occurred_at, kind, ip, data) VALUES ($1, $2, $3, $4, $5::jsonb)
       RETURNING (SELECT email FROM users WHERE id = $1) AS email`,
      [e.userId, e.occurredAt, e.kind, e.ip, JSON.stringify(e.data)],
    );
    return rows[0]?.email ?? undefined;
  }

  /** Newest first, before the event seq `before` when given. */
  listOf(db: EntityManager | DataSource, userId: string, before: string | null, limit: number): Promise<SecurityEventRow[]> {
    return queryRows<SecurityEventRow>(
      db,
      `SELECT id, seq::text, kind, occurred_at, host(ip) AS ip, data FROM security_events
       WHERE user_id = $1 AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3`,
      [userId, before, limit],
    );
  }
}
