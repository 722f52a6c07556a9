import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { ListType } from './fraud.types';

export interface ListProbe {
  type: string;
  value: string;
}

export interface ListEntryRow {
  id: string;
  list_type: ListType;
  value: string;
  reason: string;
  expires_at: Date | null;
  created_by: string | null;
  created_at: Date;
  removed_by: string | null;
  removed_at: Date | null;
}

export interface ListEntry {
  id: string;
  type: ListType;
  value: string;
  reason: string;
  expiresAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  removedBy: string | null;
  removedAt: Date | null;
}

export function toListEntry(r: ListEntryRow): ListEntry {
  return {
    id: r.id,
    type: r.list_type,
    value: r.value,
    reason: r.reason,
    expiresAt: r.expires_at,
    createdBy: r.created_by,
    createdAt: r.created_at,
    removedBy: r.removed_by,
    removedAt: r.removed_at,
  };
}

export interface ListEntriesQuery {
  type: ListType;
  /** Removed and expired entries too. */
  all: boolean;
  now: Date;
  /** (created_at, id) of the last item of the page before: newest first. */
  before: { createdAt: string; id: string } | null;
  limit: number;
}

const ENTRY_COLUMNS = 'id, list_type, value, reason, expires_at, created_by, created_at, removed_by, removed_at';

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

  async list(db: EntityManager | DataSource, q: ListEntriesQuery): Promise<ListEntry[]> {
    const rows = await queryRows<ListEntryRow>(
      db,
      `SELECT ${ENTRY_COLUMNS} FROM fraud_list_entries
        WHERE list_type = $1 AND ($2 OR (removed_at IS NULL AND (expires_at IS NULL OR expires_at > $3)))
          AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5::uuid))
        ORDER BY created_at DESC, id DESC LIMIT $6`,
      [q.type, q.all, q.now, q.before?.createdAt ?? null, q.before?.id ?? null, q.limit],
    );
    return rows.map(toListEntry);
  }

  /**
   * Adds an entry unless the value is live on the list already (undefined then). An entry of the value
   * that has expired is closed first, as removed when it expired, so the value can be listed again.
   */
  async insert(
    em: EntityManager,
    e: { id: string; type: ListType; value: string; reason: string; expiresAt: Date | null; createdBy: string; createdAt: Date },
  ): Promise<ListEntry | undefined> {
    await queryRows(
      em,
      `UPDATE fraud_list_entries SET removed_at = expires_at
        WHERE list_type = $1 AND value = $2 AND removed_at IS NULL AND expires_at <= $3`,
      [e.type, e.value, e.createdAt],
    );
    const [row] = await queryRows<ListEntryRow>(
      em,
      `INSERT INTO fraud_list_entries (id, list_type, value, reason, expires_at, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (list_type, value) WHERE removed_at IS NULL DO NOTHING
       RETURNING ${ENTRY_COLUMNS}`,
      [e.id, e.type, e.value, e.reason, e.expiresAt, e.createdBy, e.createdAt],
    );
    return row && toListEntry(row);
  }

  /** Soft-removes an entry that is not removed yet (undefined when there is none). */
  async remove(em: EntityManager, type: ListType, id: string, by: string, at: Date): Promise<ListEntry | undefined> {
    const [row] = await queryRows<ListEntryRow>(
      em,
      `UPDATE fraud_list_entries SET removed_at = $4, removed_by = $3 WHERE id = $2 AND list_type = $1 AND removed_at IS NULL
       RETURNING ${ENTRY_COLUMNS}`,
      [type, id, by, at],
    );
    return row && toListEntry(row);
  }

  /** PostgreSQL's text form of an address (`inet`) or a network (`cidr`); throws 22P02 for an invalid one. */
  async canonical(db: EntityManager | DataSource, kind: 'inet' | 'cidr', value: string): Promise<string> {
    const sql = kind === 'inet' ? `SELECT host($1::inet) AS v` : `SELECT $1::cidr::text AS v`;
    const [row] = await queryRows<{ v: string }>(db, sql, [value]);
    return row.v;
  }
}
