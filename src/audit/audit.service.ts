import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';

export interface AuditRecord {
  actorId?: string | null;
  action: string;
  subjectType?: string;
  subjectId?: string;
  reason?: string;
  data?: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  occurredAt: string;
  actorId: string | null;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  reason: string | null;
  data: Record<string, unknown>;
}

/** Append-only record of admin and security actions (the table rejects UPDATE and DELETE). */
@Injectable()
export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /** Records in the caller's transaction when given one, so the record and the action commit together. */
  async record(em: EntityManager | undefined, r: AuditRecord): Promise<void> {
    await (em ?? this.dataSource.manager).query(
      `INSERT INTO audit_log (occurred_at, actor_id, action, subject_type, subject_id, reason, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
      [
        this.clock.now(),
        r.actorId ?? null,
        r.action,
        r.subjectType ?? null,
        r.subjectId ?? null,
        r.reason ?? null,
        JSON.stringify(r.data ?? {}),
      ],
    );
  }

  async list(q: PageQuery & { action?: string; subjectId?: string }): Promise<Page<AuditEntry>> {
    const limit = pageLimit(q);
    const after = decodeCursor(q.cursor, 1);
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT * FROM audit_log
       WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR action = $2) AND ($3::text IS NULL OR subject_id = $3)
       ORDER BY id DESC LIMIT $4`,
      [after?.[0] ?? null, q.action ?? null, q.subjectId ?? null, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => ({
        id: String(r.id),
        occurredAt: (r.occurred_at as Date).toISOString(),
        actorId: (r.actor_id as string) ?? null,
        action: r.action as string,
        subjectType: (r.subject_type as string) ?? null,
        subjectId: (r.subject_id as string) ?? null,
        reason: (r.reason as string) ?? null,
        data: r.data as Record<string, unknown>,
      }),
      (r) => [String(r.id)],
    );
  }
}
