import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { AccountName, Asset, LedgerLine } from './ledger.types';

/** An account's posted balance: its balance row `b` plus its pending credits. */
const POSTED = `(b.balance + coalesce((SELECT sum(c.amount) FROM ledger_pending_credits c WHERE c.account_id = b.account_id), 0))`;

export interface PostedHeldRow {
  posted: string;
  held: string;
}

export interface OwnerBalanceRow {
  asset: Asset;
  name: string;
  balance: string;
  held: string;
}

export interface LineRow {
  id: string;
  seq: string;
  entry_id: string;
  asset: Asset;
  name: AccountName;
  amount: string;
  balance_after: string;
  kind: string;
  created_at: Date;
}

export function toLedgerLine(r: LineRow): LedgerLine {
  return {
    id: r.id,
    entryId: r.entry_id,
    account: r.name,
    asset: r.asset,
    amount: BigInt(r.amount),
    balanceAfter: BigInt(r.balance_after),
    kind: r.kind,
    createdAt: r.created_at,
  };
}

/** ledger_balances and ledger_pending_credits: locks, funds, balances, histories and folding. */
@Injectable()
export class LedgerBalancesRepository {
  /** Locks balance rows in key order until the transaction ends. */
  async lockRows(em: EntityManager, accountIds: string[]): Promise<void> {
    await queryRows(
      em,
      'SELECT b.account_id FROM ledger_balances b WHERE b.account_id = ANY($1::bigint[]) ORDER BY b.account_id FOR NO KEY UPDATE',
      [accountIds],
      {
        prepare: true,
      },
    );
  }

  /** What each account can spend: its row (balance - held) plus its pending credits, by account id. */
  async readAvailable(em: EntityManager, accountIds: string[]): Promise<Map<string, bigint>> {
    const rows = await queryRows<{ account_id: string; available: string }>(
      em,
      `SELECT b.account_id::text AS account_id,
              (b.balance - b.held + coalesce((SELECT sum(c.amount) FROM ledger_pending_credits c WHERE c.account_id = b.account_id), 0))::text AS available
         FROM ledger_balances b WHERE b.account_id = ANY($1::bigint[])`,
      [accountIds],
      { prepare: true },
    );
    return new Map(rows.map((r) => [r.account_id, BigInt(r.available)]));
  }

  async postedAndHeld(db: DataSource, accountId: string): Promise<PostedHeldRow> {
    const [row] = await queryRows<PostedHeldRow>(
      db,
      `SELECT ${POSTED}::text AS posted, b.held::text AS held FROM ledger_balances b WHERE b.account_id = $1`,
      [accountId],
    );
    return row;
  }

  /** The posted balance of each (owner, asset) `debt` account that exists, its pending credits counted. */
  debts(db: EntityManager | DataSource, owners: string[], assets: Asset[]): Promise<{ owner_id: string; asset: Asset; posted: string }[]> {
    return queryRows(
      db,
      `SELECT a.owner_id, a.asset, ${POSTED}::text AS posted
         FROM unnest($1::uuid[], $2::text[]) AS q(owner_id, asset)
         JOIN ledger_accounts a ON a.owner_id = q.owner_id AND a.asset = q.asset AND a.name = 'debt'
         JOIN ledger_balances b ON b.account_id = a.id`,
      [owners, assets],
      { prepare: true },
    );
  }

  /** As of a time: the postings of entries recorded at or before it, and the holds open at that time. */
  async postedAndHeldAsOf(db: DataSource, accountId: string, asOf: Date): Promise<PostedHeldRow> {
    const [row] = await queryRows<PostedHeldRow>(
      db,
      `SELECT (SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
                WHERE p.account_id = $1 AND e.created_at <= $2)::text AS posted,
              (SELECT coalesce(sum(h.amount), 0) FROM ledger_holds h
                WHERE h.from_account_id = $1 AND h.created_at <= $2 AND (h.closed_at IS NULL OR h.closed_at > $2))::text AS held`,
      [accountId, asOf],
    );
    return row;
  }

  ofOwner(db: DataSource, ownerId: string): Promise<OwnerBalanceRow[]> {
    return queryRows<OwnerBalanceRow>(
      db,
      `SELECT a.asset, a.name, ${POSTED}::text AS balance, b.held::text AS held
         FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
        WHERE a.owner_id = $1`,
      [ownerId],
    );
  }

  /**
   * The accounts' postings, newest first (before posting seq `before`, at most `limit`), with the
   * balance after each: the account's balance now minus every posting after it; the sum of the later
   * ones is taken once per account (from the page's newest row) and extended down the page.
   */
  lines(db: DataSource, accountIds: string[], before: string | null, limit: number): Promise<LineRow[]> {
    return queryRows<LineRow>(
      db,
      `WITH accts AS (
         SELECT id, asset, name FROM ledger_accounts WHERE id = ANY($1::bigint[])
       ), page AS (
         SELECT p.* FROM accts a CROSS JOIN LATERAL (
           SELECT q.id, q.seq, q.entry_id, q.account_id, q.amount FROM ledger_postings q
            WHERE q.account_id = a.id AND ($2::bigint IS NULL OR q.seq < $2)
            ORDER BY q.seq DESC LIMIT $3) p
         ORDER BY p.seq DESC LIMIT $3
       ), newest AS (
         SELECT account_id, max(seq) AS seq FROM page GROUP BY account_id
       ), later AS (
         SELECT n.account_id,
                coalesce((SELECT sum(q.amount) FROM ledger_postings q WHERE q.account_id = n.account_id AND q.seq > n.seq), 0) AS amount
           FROM newest n
       ), totals AS (
         SELECT b.account_id, ${POSTED} AS balance FROM ledger_balances b WHERE b.account_id IN (SELECT account_id FROM newest)
       )
       SELECT pg.id, pg.seq::text AS seq, pg.entry_id, a.asset, a.name, pg.amount::text AS amount, e.kind, e.created_at,
              (t.balance - l.amount - coalesce(sum(pg.amount) OVER (PARTITION BY pg.account_id ORDER BY pg.seq DESC
                                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::text AS balance_after
         FROM page pg
         JOIN accts a ON a.id = pg.account_id
         JOIN ledger_entries e ON e.id = pg.entry_id
         JOIN totals t ON t.account_id = pg.account_id
         JOIN later l ON l.account_id = pg.account_id
        ORDER BY pg.seq DESC`,
      [accountIds, before, limit],
    );
  }

  /** What entries of `kind` created at or after `since` credited the account (positive postings only). */
  /** Per account id (those credited only): what entries of `kind` created since `since` credited it. */
  async creditedSince(em: EntityManager, accountIds: string[], kind: string, since: Date): Promise<Map<string, bigint>> {
    const rows = await queryRows<{ account_id: string; credited: string }>(
      em,
      `SELECT p.account_id::text AS account_id, sum(p.amount)::text AS credited
         FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
        WHERE p.account_id = ANY ($1::bigint[]) AND p.amount > 0 AND e.kind = $2 AND e.created_at >= $3
        GROUP BY p.account_id`,
      [accountIds, kind, since],
    );
    return new Map(rows.map((r) => [r.account_id, BigInt(r.credited)]));
  }

  /**
   * Locks (in key order, skipping rows locked right now) up to `limit` balance rows that have pending
   * credits; answers their account ids.
   */
  async lockFoldable(em: EntityManager, limit: number): Promise<string[]> {
    const [{ ids }] = await queryRows<{ ids: string[] | null }>(
      em,
      `SELECT array_agg(x.account_id::text) AS ids FROM (
         SELECT b.account_id FROM ledger_balances b
          WHERE b.account_id IN (SELECT DISTINCT c.account_id FROM ledger_pending_credits c)
          ORDER BY b.account_id LIMIT $1 FOR NO KEY UPDATE SKIP LOCKED) x`,
      [limit],
    );
    return ids ?? [];
  }

  /** Moves the accounts' pending credits into their balance rows (which the caller has locked). */
  async fold(em: EntityManager, accountIds: string[]): Promise<void> {
    await queryRows(em, 'SELECT ledger_fold($1::bigint[])', [accountIds]);
  }
}
