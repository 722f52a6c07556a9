import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { serialCursor } from '../common/cursors';
import { Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { AuditRepository, toAuditEntry } from './audit.repository';

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
    private readonly auditLog: AuditRepository,
  ) {}

  /** Records in the caller's transaction when given one, so the record and the action commit together. */
  async record(em: EntityManager | undefined, r: AuditRecord): Promise<void> {
    await this.auditLog.insert(em ?? this.dataSource.manager, this.clock.now(), r);
  }

  async list(q: PageQuery & { action?: string; subjectId?: string }): Promise<Page<AuditEntry>> {
    const limit = pageLimit(q);
    const rows = await this.auditLog.list(this.dataSource, {
      before: serialCursor(q.cursor),
      action: q.action ?? null,
      subjectId: q.subjectId ?? null,
      limit: limit + 1,
    });
    return toPage(rows, limit, toAuditEntry, (r) => [r.seq]);
  }
}
