import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';

export const GENESIS_HASH = Buffer.alloc(32);

/** What an entry's seal covers: its identity, content and every posting (account, amount, in order). */
export interface ChainEntry {
  id: string;
  reference: string;
  kind: string;
  metadata: string;
  createdAt: string;
  postings: string[];
}

/** hash = sha256(previous hash || canonical entry). Changing any sealed entry or posting breaks every later link. */
export function chainHash(prev: Buffer, e: ChainEntry): Buffer {
  return createHash('sha256')
    .update(prev)
    .update(JSON.stringify([e.id, e.reference, e.kind, e.createdAt, e.metadata, e.postings]))
    .digest();
}

/**
 * Loads entries in the form that is hashed. Text forms PostgreSQL renders the same way in every
 * session (epoch seconds, jsonb's normalized text), so the sealer and the verifier always agree.
 */
export async function loadChainEntries(db: EntityManager | DataSource, ids: string[]): Promise<Map<string, ChainEntry>> {
  const rows = await queryRows<{ id: string; reference: string; kind: string; metadata: string; created_at: string; postings: string[] }>(
    db,
    `SELECT e.id, e.reference, e.kind, e.metadata::text AS metadata, extract(epoch FROM e.created_at)::text AS created_at,
            coalesce(array_agg(p.account_id::text || ':' || p.amount::text ORDER BY p.seq) FILTER (WHERE p.id IS NOT NULL), '{}') AS postings
       FROM ledger_entries e LEFT JOIN ledger_postings p ON p.entry_id = e.id
      WHERE e.id = ANY($1::uuid[])
      GROUP BY e.id`,
    [ids],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      { id: r.id, reference: r.reference, kind: r.kind, metadata: r.metadata, createdAt: r.created_at, postings: r.postings },
    ]),
  );
}
