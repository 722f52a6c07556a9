import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export interface ListProbe {
  type: string;
  value: string;
}

/** `fraud_list_entries`: typed lists (email, email_domain, ip, ip_cidr, device, card_fingerprint, user). */
@Injectable()
export class ListsRepository {
  /**
   * Which probes are on a live list (not removed, not expired at `now`): `ip_cidr` probes are
   * addresses matched against the listed networks, every other type compares values exactly. A rule
   * may probe ip_cidr with any feature: what is no address matches nothing (and fails no statement).
   */
  async members(db: EntityManager | DataSource, probes: ListProbe[], now: Date): Promise<ListProbe[]> {
    if (!probes.length) return [];
    return queryRows<ListProbe>(
      db,
      `SELECT DISTINCT p.type, p.value
         FROM unnest($1::text[], $2::text[]) AS p(type, value)
         JOIN fraud_list_entries e ON e.list_type = p.type AND e.removed_at IS NULL AND (e.expires_at IS NULL OR e.expires_at > $3)
          AND CASE WHEN p.type <> 'ip_cidr' THEN e.value = p.value
                   WHEN e.list_type = 'ip_cidr' AND pg_input_is_valid(p.value, 'inet') THEN e.value::cidr >>= p.value::inet
                   ELSE false END`,
      [probes.map((p) => p.type), probes.map((p) => p.value), now],
      { prepare: true },
    );
  }
}
