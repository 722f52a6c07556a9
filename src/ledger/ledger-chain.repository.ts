import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { ChainEntry } from './ledger-chain';
import { Asset } from './ledger.types';

export interface SealRow {
  seq: string;
  entry_xid: string;
  entry_id: string;
  hash: Buffer;
}

/** A seal with the entry's current transaction id (null: the entry is gone). */
export interface SealCheckRow extends SealRow {
  xid: string | null;
  prev_hash: Buffer;
}

export interface SealInsert {
  seq: string;
  entryId: string;
  entryXid: string;
  prevHash: Buffer;
  hash: Buffer;
}

/** An account whose balance row disagrees with its postings or holds, or is below zero where it must not be. */
export interface BadAccountRow {
  id: string;
  label: string;
  /** null: the account has no balance row. */
  balance: string | null;
  posted: string;
  held: string;
  pending: string;
  negative: boolean;
}

export interface AssetTotalsRow {
  asset: Asset;
  postings: string;
  balances: string;
  minted: string;
  burned: string;
  issuance: string;
}

interface ChainEntryRow {
  id: string;
  reference: string;
  kind: string;
  metadata: string;
  created_at: string;
  postings: string[];
}

const toChainEntry = (r: ChainEntryRow): ChainEntry => ({
  id: r.id,
  reference: r.reference,
  kind: r.kind,
  metadata: r.metadata,
  createdAt: r.created_at,
  postings: r.postings,
});

/** ledger_seals (the hash chain) and the reads that verify the ledger against itself. */
@Injectable()
export class LedgerChainRepository {
  /** The newest writing transaction among the entries (null: no entries). */
  async newestEntryXid(db: EntityManager): Promise<string | null> {
    const [{ target }] = await queryRows<{ target: string | null }>(db, 'SELECT max(xid)::text AS target FROM ledger_entries');
    return target;
  }

  /** Whether every transaction up to `xid` is over (anywhere on the server). */
  async isOver(db: EntityManager, xid: string): Promise<boolean> {
    const [{ over }] = await queryRows<{ over: boolean }>(db, 'SELECT pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 AS over', [xid]);
    return over;
  }

  /** Takes the transaction-scoped advisory lock `key` if it is free. */
  async tryLock(em: EntityManager, key: number): Promise<boolean> {
    const [{ locked }] = await queryRows<{ locked: boolean }>(em, 'SELECT pg_try_advisory_xact_lock($1) AS locked', [key]);
    return locked;
  }

  /** The oldest transaction id still running: every transaction below it is over. */
  async horizon(em: EntityManager): Promise<string> {
    const [{ horizon }] = await queryRows<{ horizon: string }>(em, 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon');
    return horizon;
  }

  async lastSeal(em: EntityManager): Promise<SealRow | undefined> {
    const [last] = await queryRows<SealRow>(
      em,
      'SELECT s.seq::text AS seq, s.entry_xid::text AS entry_xid, s.entry_id, s.hash FROM ledger_seals s ORDER BY s.seq DESC LIMIT 1',
    );
    return last;
  }

  /** Entries after (xid, id) `after`, written by transactions below `horizon`, in chain order. */
  unsealed(em: EntityManager, after: SealRow | undefined, horizon: string, limit: number): Promise<{ id: string; xid: string }[]> {
    return queryRows<{ id: string; xid: string }>(
      em,
      `SELECT e.id, e.xid::text AS xid FROM ledger_entries e
        WHERE ($1::xid8 IS NULL OR (e.xid, e.id) > ($1::xid8, $2::uuid)) AND e.xid < $3::xid8
        ORDER BY e.xid, e.id LIMIT $4`,
      [after?.entry_xid ?? null, after?.entry_id ?? null, horizon, limit],
    );
  }

  async insertSeals(em: EntityManager, seals: SealInsert[]): Promise<void> {
    await queryRows(
      em,
      `INSERT INTO ledger_seals (seq, entry_id, entry_xid, prev_hash, hash)
       SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::xid8[], $4::bytea[], $5::bytea[])`,
      [
        seals.map((s) => s.seq),
        seals.map((s) => s.entryId),
        seals.map((s) => s.entryXid),
        seals.map((s) => s.prevHash),
        seals.map((s) => s.hash),
      ],
    );
  }

  /**
   * Loads entries in the form that is hashed. Text forms PostgreSQL renders the same way in every
   * session (epoch seconds, jsonb's normalized text), so the sealer and the verifier always agree.
   */
  async chainEntries(db: EntityManager | DataSource, ids: string[]): Promise<Map<string, ChainEntry>> {
    const rows = await queryRows<ChainEntryRow>(
      db,
      `SELECT e.id, e.reference, e.kind, e.metadata::text AS metadata, extract(epoch FROM e.created_at)::text AS created_at,
              coalesce(array_agg(p.account_id::text || ':' || p.amount::text ORDER BY p.seq) FILTER (WHERE p.id IS NOT NULL), '{}') AS postings
         FROM ledger_entries e LEFT JOIN ledger_postings p ON p.entry_id = e.id
        WHERE e.id = ANY($1::uuid[])
        GROUP BY e.id`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, toChainEntry(r)]));
  }

  async readOnly(em: EntityManager): Promise<void> {
    await queryRows(em, 'SET TRANSACTION READ ONLY');
  }

  async countAccounts(em: EntityManager): Promise<number> {
    const [{ count }] = await queryRows<{ count: string }>(em, 'SELECT count(*)::text AS count FROM ledger_accounts');
    return Number(count);
  }

  async countEntries(em: EntityManager): Promise<number> {
    const [{ count }] = await queryRows<{ count: string }>(em, 'SELECT count(*)::text AS count FROM ledger_entries');
    return Number(count);
  }

  /**
   * Accounts whose balance (row plus pending credits) differs from the sum of their postings, whose
   * `held` differs from their pending holds, or that are below zero where that is not allowed.
   */
  badAccounts(em: EntityManager, limit: number): Promise<BadAccountRow[]> {
    return queryRows<BadAccountRow>(
      em,
      `SELECT a.id::text AS id, a.owner_id || '/' || a.asset || '/' || a.name AS label,
              (b.balance + coalesce(c.total, 0))::text AS balance, coalesce(p.total, 0)::text AS posted,
              coalesce(b.held, 0)::text AS held, coalesce(h.total, 0)::text AS pending,
              (NOT a.allow_negative AND (b.balance - b.held < 0 OR coalesce(c.debits, false))) OR b.held < 0 AS negative
         FROM ledger_accounts a
         LEFT JOIN ledger_balances b ON b.account_id = a.id
         LEFT JOIN (SELECT account_id, sum(amount) AS total, bool_or(amount < 0) AS debits FROM ledger_pending_credits GROUP BY account_id) c
                ON c.account_id = a.id
         LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_postings GROUP BY account_id) p ON p.account_id = a.id
         LEFT JOIN (SELECT from_account_id, sum(amount) AS total FROM ledger_holds WHERE status = 'pending' GROUP BY from_account_id) h
                ON h.from_account_id = a.id
        WHERE b.account_id IS NULL OR b.balance + coalesce(c.total, 0) <> coalesce(p.total, 0) OR b.held <> coalesce(h.total, 0)
           OR (NOT a.allow_negative AND (b.balance - b.held < 0 OR coalesce(c.debits, false))) OR b.held < 0
        ORDER BY a.id LIMIT $1`,
      [limit],
    );
  }

  /** Entries with fewer than two postings or that do not sum to zero in some asset. */
  unbalancedEntries(em: EntityManager, limit: number): Promise<{ id: string; legs: string }[]> {
    return queryRows<{ id: string; legs: string }>(
      em,
      `SELECT e.id, coalesce(sum(x.legs), 0)::text AS legs
         FROM ledger_entries e
         LEFT JOIN (SELECT p.entry_id, a.asset, count(*) AS legs, sum(p.amount) AS total
                      FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id GROUP BY p.entry_id, a.asset) x
                ON x.entry_id = e.id
        GROUP BY e.id
       HAVING coalesce(sum(x.legs), 0) < 2 OR coalesce(bool_or(x.total <> 0), false)
        LIMIT $1`,
      [limit],
    );
  }

  /** Per asset: the postings' and the balances' sums, everything issued, what sits in burn, the issuance balance. */
  assetTotals(em: EntityManager): Promise<AssetTotalsRow[]> {
    return queryRows<AssetTotalsRow>(
      em,
      `SELECT a.asset,
              coalesce(sum(p.total), 0)::text AS postings,
              coalesce(sum(b.balance), 0)::text AS balances,
              coalesce(sum(p.minted) FILTER (WHERE a.name = 'issuance'), 0)::text AS minted,
              coalesce(sum(b.balance) FILTER (WHERE a.name = 'burn'), 0)::text AS burned,
              coalesce(sum(b.balance) FILTER (WHERE a.name = 'issuance'), 0)::text AS issuance
         FROM ledger_accounts a
         LEFT JOIN (SELECT account_id, sum(amount) AS total, -sum(amount) FILTER (WHERE amount < 0) AS minted
                      FROM ledger_postings GROUP BY account_id) p ON p.account_id = a.id
         LEFT JOIN (SELECT x.account_id, x.balance + coalesce((SELECT sum(c.amount) FROM ledger_pending_credits c WHERE c.account_id = x.account_id), 0) AS balance
                      FROM ledger_balances x) b ON b.account_id = a.id
        GROUP BY a.asset`,
    );
  }

  /** Seals from `seq` on, in order, with their entries' current transaction ids. */
  sealsFrom(em: EntityManager, seq: bigint, limit: number): Promise<SealCheckRow[]> {
    return queryRows<SealCheckRow>(
      em,
      `SELECT s.seq::text AS seq, s.entry_id, s.entry_xid::text AS entry_xid, e.xid::text AS xid, s.prev_hash, s.hash
         FROM ledger_seals s LEFT JOIN ledger_entries e ON e.id = s.entry_id
        WHERE s.seq >= $1 ORDER BY s.seq LIMIT $2`,
      [seq.toString(), limit],
    );
  }
}
