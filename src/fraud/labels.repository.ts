import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { LabelKind } from './fraud.types';

export interface NewLabel {
  userId: string;
  kind: LabelKind;
  /** Unique: recording a label again with its reference changes nothing. */
  reference: string;
  subjectId?: string | null;
  data?: Record<string, unknown>;
  createdBy?: string | null;
  note?: string | null;
}

export interface LabelRow {
  id: string;
  user_id: string;
  kind: LabelKind;
  reference: string;
  subject_id: string | null;
  occurred_at: Date;
  data: Record<string, unknown>;
  created_by: string | null;
  note: string | null;
}

export interface Label {
  id: string;
  userId: string;
  kind: LabelKind;
  reference: string;
  subjectId: string | null;
  occurredAt: Date;
  data: Record<string, unknown>;
  createdBy: string | null;
  note: string | null;
}

export function toLabel(r: LabelRow): Label {
  return {
    id: r.id,
    userId: r.user_id,
    kind: r.kind,
    reference: r.reference,
    subjectId: r.subject_id,
    occurredAt: r.occurred_at,
    data: r.data,
    createdBy: r.created_by,
    note: r.note,
  };
}

export interface LabelListQuery {
  userId: string | null;
  kind: LabelKind | null;
  /** Only labels older than this seq (newest first). */
  before: string | null;
  limit: number;
}

const LABEL_COLUMNS = 'id, user_id, kind, reference, subject_id, occurred_at, data, created_by, note';

/** `fraud_labels` (append-only): what turned out bad, for features and backtests. */
@Injectable()
export class LabelsRepository {
  /** Inserts the label unless one with its reference exists; true when it was new. */
  async insert(em: EntityManager, l: NewLabel, occurredAt: Date): Promise<boolean> {
    const rows = await queryRows(
      em,
      `INSERT INTO fraud_labels (user_id, kind, reference, subject_id, occurred_at, data, created_by, note)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8) ON CONFLICT (reference) DO NOTHING RETURNING id`,
      [l.userId, l.kind, l.reference, l.subjectId ?? null, occurredAt, JSON.stringify(l.data ?? {}), l.createdBy ?? null, l.note ?? null],
    );
    return rows.length > 0;
  }

  async countForUser(db: EntityManager | DataSource, userId: string, kind: LabelKind): Promise<number> {
    const [row] = await queryRows<{ n: number }>(db, `SELECT count(*)::int AS n FROM fraud_labels WHERE user_id = $1 AND kind = $2`, [
      userId,
      kind,
    ]);
    return row.n;
  }

  async findByReference(db: EntityManager | DataSource, reference: string): Promise<Label | undefined> {
    const [row] = await queryRows<LabelRow>(db, `SELECT ${LABEL_COLUMNS} FROM fraud_labels WHERE reference = $1`, [reference]);
    return row && toLabel(row);
  }

  /** Newest first, with the list's order (`seq`, internal). */
  list(db: EntityManager | DataSource, q: LabelListQuery): Promise<(LabelRow & { seq: string })[]> {
    return queryRows<LabelRow & { seq: string }>(
      db,
      `SELECT ${LABEL_COLUMNS}, seq::text FROM fraud_labels
        WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR kind = $2) AND ($3::bigint IS NULL OR seq < $3)
        ORDER BY seq DESC LIMIT $4`,
      [q.userId, q.kind, q.before, q.limit],
    );
  }
}
