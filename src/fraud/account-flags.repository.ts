import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export interface FraudFlagsRow {
  user_id: string;
  /** confirmed_takeover / confirmed_fraud labels recorded after `since`. */
  confirmed: { kind: string; reference: string }[];
  /** BLOCK decisions after `since`. */
  blocks: { id: string; event_type: string }[];
}

/** What the fraud engine holds against accounts since a moment each: confirmed labels and blocks. */
@Injectable()
export class AccountFlagsRepository {
  flags(em: EntityManager, users: { userId: string; since: Date }[]): Promise<FraudFlagsRow[]> {
    return queryRows<FraudFlagsRow>(
      em,
      `SELECT q.user_id,
              COALESCE((SELECT jsonb_agg(jsonb_build_object('kind', l.kind, 'reference', l.reference) ORDER BY l.seq) FROM fraud_labels l
                         WHERE l.user_id = q.user_id AND l.kind IN ('confirmed_takeover', 'confirmed_fraud') AND l.occurred_at > q.since),
                       '[]') AS confirmed,
              COALESCE((SELECT jsonb_agg(jsonb_build_object('id', d.id, 'event_type', d.event_type) ORDER BY d.created_at) FROM fraud_decisions d
                         WHERE d.user_id = q.user_id AND d.outcome = 'BLOCK' AND d.created_at > q.since),
                       '[]') AS blocks
         FROM unnest($1::uuid[], $2::timestamptz[]) AS q(user_id, since)`,
      [users.map((u) => u.userId), users.map((u) => u.since)],
    );
  }
}
