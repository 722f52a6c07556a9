import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../../common/clock.service';

export type FraudOutcomeKind = 'chargeback' | 'dispute_lost';

export interface FraudOutcome {
  id: string;
  userId: string;
  kind: FraudOutcomeKind;
  reference: string;
  purchaseId: string | null;
  occurredAt: string;
}

/**
 * Outcomes the fraud rules learn from (the `user.chargebacks` feature, backtests): every dispute
 * is a chargeback, a lost one also a `dispute_lost`. Append-only; one row per reference.
 */
@Injectable()
export class FraudOutcomesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  async record(
    em: EntityManager,
    o: { userId: string; kind: FraudOutcomeKind; reference: string; purchaseId?: string; data?: Record<string, unknown> },
  ): Promise<void> {
    await em.query(
      `INSERT INTO fraud_outcomes (user_id, kind, reference, purchase_id, occurred_at, data)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT (reference) DO NOTHING`,
      [o.userId, o.kind, o.reference, o.purchaseId ?? null, this.clock.now(), JSON.stringify(o.data ?? {})],
    );
  }

  async forUser(userId: string, since?: Date): Promise<FraudOutcome[]> {
    const rows: Record<string, unknown>[] = await this.dataSource.query(
      `SELECT * FROM fraud_outcomes WHERE user_id = $1 AND ($2::timestamptz IS NULL OR occurred_at >= $2) ORDER BY id`,
      [userId, since ?? null],
    );
    return rows.map((r) => ({
      id: String(r.id),
      userId: r.user_id as string,
      kind: r.kind as FraudOutcomeKind,
      reference: r.reference as string,
      purchaseId: (r.purchase_id as string | null) ?? null,
      occurredAt: (r.occurred_at as Date).toISOString(),
    }));
  }

  async countForUser(userId: string, kind: FraudOutcomeKind): Promise<number> {
    const [row] = await this.dataSource.query(`SELECT count(*)::int AS n FROM fraud_outcomes WHERE user_id = $1 AND kind = $2`, [
      userId,
      kind,
    ]);
    return (row as { n: number }).n;
  }
}
