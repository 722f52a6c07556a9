import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { FraudEventType } from './fraud.types';
import { ReviewStatus } from './review-state';

export interface ReviewRow {
  id: string;
  decision_id: string;
  event_type: FraudEventType;
  user_id: string;
  subject_id: string;
  status: ReviewStatus;
  created_at: Date;
  escalated_at: Date | null;
  decided_by: string | null;
  decided_at: Date | null;
  note: string | null;
}

export interface Review {
  id: string;
  decisionId: string;
  eventType: FraudEventType;
  userId: string;
  subjectId: string;
  status: ReviewStatus;
  createdAt: Date;
  escalatedAt: Date | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  note: string | null;
}

export function toReview(r: ReviewRow): Review {
  return {
    id: r.id,
    decisionId: r.decision_id,
    eventType: r.event_type,
    userId: r.user_id,
    subjectId: r.subject_id,
    status: r.status,
    createdAt: r.created_at,
    escalatedAt: r.escalated_at,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at,
    note: r.note,
  };
}

export interface NewReview {
  id: string;
  decisionId: string;
  eventType: FraudEventType;
  userId: string;
  subjectId: string;
  createdAt: Date;
}

export interface ReviewListQuery {
  status: ReviewStatus | null;
  eventType: FraudEventType | null;
  userId: string | null;
  /** (escalated first, created_at, id) of the last item of the page before. */
  after: { escalated: boolean; createdAt: string; id: string } | null;
  limit: number;
}

const COLUMNS = 'id, decision_id, event_type, user_id, subject_id, status, created_at, escalated_at, decided_by, decided_at, note';

/** `fraud_reviews`: the review queue. */
@Injectable()
export class ReviewsRepository {
  async insertMany(em: EntityManager, reviews: NewReview[]): Promise<void> {
    if (!reviews.length) return;
    await queryRows(
      em,
      `INSERT INTO fraud_reviews (id, decision_id, event_type, user_id, subject_id, created_at)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[])`,
      [
        reviews.map((r) => r.id),
        reviews.map((r) => r.decisionId),
        reviews.map((r) => r.eventType),
        reviews.map((r) => r.userId),
        reviews.map((r) => r.subjectId),
        reviews.map((r) => r.createdAt),
      ],
    );
  }

  async lock(em: EntityManager, id: string): Promise<Review | undefined> {
    const [row] = await queryRows<ReviewRow>(em, `SELECT ${COLUMNS} FROM fraud_reviews WHERE id = $1 FOR UPDATE`, [id]);
    return row && toReview(row);
  }

  async find(db: EntityManager | DataSource, id: string): Promise<Review | undefined> {
    const [row] = await queryRows<ReviewRow>(db, `SELECT ${COLUMNS} FROM fraud_reviews WHERE id = $1`, [id]);
    return row && toReview(row);
  }

  async findBySubject(db: EntityManager | DataSource, eventType: FraudEventType, subjectId: string): Promise<Review | undefined> {
    const [row] = await queryRows<ReviewRow>(db, `SELECT ${COLUMNS} FROM fraud_reviews WHERE event_type = $1 AND subject_id = $2`, [
      eventType,
      subjectId,
    ]);
    return row && toReview(row);
  }

  async close(em: EntityManager, id: string, status: ReviewStatus, by: string, note: string, at: Date): Promise<void> {
    await queryRows(em, `UPDATE fraud_reviews SET status = $2, decided_by = $3, note = $4, decided_at = $5 WHERE id = $1`, [
      id,
      status,
      by,
      note,
      at,
    ]);
  }

  /** Marks open reviews created at or before `before` as escalated; answers how many open ones are escalated now. */
  async escalate(db: EntityManager | DataSource, before: Date, now: Date): Promise<number> {
    await queryRows(db, `UPDATE fraud_reviews SET escalated_at = $2 WHERE status = 'open' AND escalated_at IS NULL AND created_at <= $1`, [
      before,
      now,
    ]);
    const [row] = await queryRows<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM fraud_reviews WHERE status = 'open' AND escalated_at IS NOT NULL`,
      [],
    );
    return row.n;
  }

  /** Escalated first, then oldest first. */
  async list(db: EntityManager | DataSource, q: ReviewListQuery): Promise<Review[]> {
    const rows = await queryRows<ReviewRow>(
      db,
      `SELECT ${COLUMNS} FROM fraud_reviews
        WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR event_type = $2) AND ($3::uuid IS NULL OR user_id = $3)
          AND ($4::boolean IS NULL OR ((escalated_at IS NULL), created_at, id) > ((NOT $4), $5::timestamptz, $6::uuid))
        ORDER BY (escalated_at IS NULL), created_at, id
        LIMIT $7`,
      [q.status, q.eventType, q.userId, q.after?.escalated ?? null, q.after?.createdAt ?? null, q.after?.id ?? null, q.limit],
    );
    return rows.map(toReview);
  }
}
