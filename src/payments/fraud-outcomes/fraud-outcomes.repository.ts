import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';

export type FraudOutcomeKind = 'chargeback' | 'dispute_lost';

export interface NewFraudOutcome {
  userId: string;
  kind: FraudOutcomeKind;
  reference: string;
  purchaseId?: string;
  data?: Record<string, unknown>;
}

/** `fraud_outcomes` (append-only). */
@Injectable()
export class FraudOutcomesRepository {
  /** Inserts the outcome unless one with its reference exists. */
  async insert(em: EntityManager, o: NewFraudOutcome, occurredAt: Date): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO fraud_outcomes (user_id, kind, reference, purchase_id, occurred_at, data)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (reference) DO NOTHING`,
      [o.userId, o.kind, o.reference, o.purchaseId ?? null, occurredAt, JSON.stringify(o.data ?? {})],
    );
  }

  async countForUser(db: EntityManager | DataSource, userId: string, kind: FraudOutcomeKind): Promise<number> {
    const [row] = await queryRows<{ n: number }>(db, `SELECT count(*)::int AS n FROM fraud_outcomes WHERE user_id = $1 AND kind = $2`, [
      userId,
      kind,
    ]);
    return row.n;
  }
}
