import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { networkOf } from './networks.sql';

export interface FraudSignalsQuery {
  userId: string;
  sessionId: string | null;
  ip: string | null;
}

export interface FraudSignalsRow {
  two_factor_enabled: boolean;
  last_password_reset_at: Date | null;
  device_id: string | null;
  device_is_new: boolean;
  network_is_new: boolean;
}

/** What the fraud rules read of the account guard's records, for several requests in one statement. */
@Injectable()
export class FraudSignalsRepository {
  async read(em: EntityManager, queries: FraudSignalsQuery[], newDeviceSince: Date): Promise<FraudSignalsRow[]> {
    return queryRows<FraudSignalsRow>(
      em,
      `SELECT
         EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = q.user_id AND t.confirmed_at IS NOT NULL) AS two_factor_enabled,
         (SELECT max(e.occurred_at) FROM security_events e WHERE e.user_id = q.user_id AND e.kind = 'password_reset') AS last_password_reset_at,
         COALESCE(d.cluster_id, d.id) AS device_id,
         COALESCE(d.created_at > $4 AND EXISTS (
           SELECT 1 FROM devices o WHERE o.user_id = q.user_id AND o.created_at < d.created_at), false) AS device_is_new,
         (q.ip IS NOT NULL
           AND EXISTS (SELECT 1 FROM known_networks n WHERE n.user_id = q.user_id)
           AND NOT EXISTS (SELECT 1 FROM known_networks n WHERE n.user_id = q.user_id AND n.network = ${networkOf('q.ip')})) AS network_is_new
       FROM unnest($1::uuid[], $2::uuid[], $3::inet[]) WITH ORDINALITY AS q(user_id, session_id, ip, n)
       LEFT JOIN session_devices sd ON sd.session_id = q.session_id
       LEFT JOIN devices d ON d.id = sd.device_id AND d.user_id = q.user_id
       ORDER BY q.n`,
      [queries.map((q) => q.userId), queries.map((q) => q.sessionId), queries.map((q) => q.ip), newDeviceSince],
      { prepare: true },
    );
  }
}
