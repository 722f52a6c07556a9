import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import type { AuditEntry, AuditRecord } from './audit.service';

type Db = EntityManager | DataSource;

export interface AuditRow {
  id: string;
  /** The list's order (internal). */
  seq: string;
  occurred_at: Date;
  actor_id: string | null;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

export interface AuditFilter {
  /** Only entries older than this seq. */
  before: string | null;
  action: string | null;
  subjectId: string | null;
  limit: number;
}

export function toAuditEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    occurredAt: r.occurred_at.toISOString(),
    actorId: r.actor_id ?? null,
    action: r.action,
    subjectType: r.subject_type ?? null,
    subjectId: r.subject_id ?? null,
    reason: r.reason ?? null,
    data: r.data,
  };
}

/** audit_log (append-only: the table rejects UPDATE and DELETE). */
@Injectable()
export class AuditRepository {
  async insert(db: Db, occurredAt: Date, r: AuditRecord): Promise<void> {
    await queryRows(
      db,
      `INSERT INTO audit_log (occurred_at, actor_id, action, subject_type, subject_id, reason, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [occurredAt, r.actorId ?? null, r.action, r.subjectType ?? null, r.subjectId ?? null, r.reason ?? null, JSON.stringify(r.data ?? {})],
    );
  }

  /** Newest first. */
  list(db: Db, f: AuditFilter): Promise<AuditRow[]> {
    return queryRows<AuditRow>(
      db,
      `SELECT id, seq::text, occurred_at, actor_id, action, subject_type, subject_id, reason, data FROM audit_log
       WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR subject_id = $3)
       ORDER BY seq DESC LIMIT $4`,
      [f.before, f.action, f.subjectId, f.limit],
    );
  }
}
