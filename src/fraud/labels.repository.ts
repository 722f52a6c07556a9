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
}
