import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../../database/sql';
import type { FraudAction } from '../../fraud/fraud.types';

/** The fraud check of one purchase request (`token_purchase`), made before its PaymentIntent. */
export interface Screening {
  purchaseId: string;
  userId: string;
  packageId: string;
  decisionId: string;
  outcome: FraudAction;
  createdAt: Date;
}

interface ScreeningRow {
  purchase_id: string;
  user_id: string;
  package_id: string;
  decision_id: string;
  outcome: FraudAction;
  created_at: Date;
}

const toScreening = (r: ScreeningRow): Screening => ({
  purchaseId: r.purchase_id,
  userId: r.user_id,
  packageId: r.package_id,
  decisionId: r.decision_id,
  outcome: r.outcome,
  createdAt: r.created_at,
});

/** `token_purchase_screenings`: append-only, one row per purchase id (so per user and Idempotency-Key). */
@Injectable()
export class ScreeningsRepository {
  async find(em: EntityManager, purchaseId: string): Promise<Screening | undefined> {
    const [row] = await queryRows<ScreeningRow>(em, 'SELECT * FROM token_purchase_screenings WHERE purchase_id = $1', [purchaseId]);
    return row && toScreening(row);
  }

  async insert(em: EntityManager, s: Screening): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO token_purchase_screenings (purchase_id, user_id, package_id, decision_id, outcome, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [s.purchaseId, s.userId, s.packageId, s.decisionId, s.outcome, s.createdAt],
    );
  }
}
