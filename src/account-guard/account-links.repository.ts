import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export interface LinkedAccountRow {
  user_id: string;
  via: 'device' | 'ip';
  value: string;
}

export interface AccountFlagsRow {
  user_id: string;
  /** `reference: reason` of each active account hold (`admin` for the admins' hold). */
  holds: string[];
  frozen: boolean;
  token_reuses: number;
}

/**
 * Reads across devices, login networks, holds, freezes and security events about how an account
 * relates to others and whether the account guard has flagged it (reseller vetting and suspension).
 */
@Injectable()
export class AccountLinksRepository {
  /**
   * Other accounts sharing a device cluster (the same browser signed in to both) or a login network
   * (known_networks: the /24 or /48 an account signed in from) with the user.
   */
  linked(db: EntityManager | DataSource, userId: string, limit: number): Promise<LinkedAccountRow[]> {
    return queryRows<LinkedAccountRow>(
      db,
      `WITH clusters AS (SELECT DISTINCT COALESCE(cluster_id, id) AS cluster FROM devices WHERE user_id = $1),
            networks AS (SELECT network FROM known_networks WHERE user_id = $1)
       SELECT * FROM (
         SELECT DISTINCT d.user_id, 'device' AS via, c.cluster::text AS value
           FROM clusters c JOIN devices d ON COALESCE(d.cluster_id, d.id) = c.cluster WHERE d.user_id <> $1
         UNION
         SELECT n.user_id, 'ip' AS via, n.network::text AS value
           FROM networks m JOIN known_networks n ON n.network = m.network WHERE n.user_id <> $1
       ) linked ORDER BY via, user_id, value LIMIT $2`,
      [userId, limit],
    );
  }

  /** For each (user, since): active account holds, a freeze in force now, refresh-token reuse after `since`. */
  flags(em: EntityManager, users: { userId: string; since: Date }[], now: Date): Promise<AccountFlagsRow[]> {
    return queryRows<AccountFlagsRow>(
      em,
      `SELECT q.user_id,
              ARRAY(SELECT COALESCE(h.reference, 'admin') || ': ' || h.reason FROM account_holds h
                     WHERE h.user_id = q.user_id AND h.released_at IS NULL ORDER BY h.placed_at, h.id) AS holds,
              EXISTS (SELECT 1 FROM account_freezes f WHERE f.user_id = q.user_id AND (f.unfreeze_at IS NULL OR f.unfreeze_at > $3)) AS frozen,
              (SELECT count(*)::int FROM security_events e
                WHERE e.user_id = q.user_id AND e.kind = 'refresh_token_reuse' AND e.occurred_at > q.since) AS token_reuses
         FROM unnest($1::uuid[], $2::timestamptz[]) AS q(user_id, since)`,
      [users.map((u) => u.userId), users.map((u) => u.since), now],
    );
  }
}
