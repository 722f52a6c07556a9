import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UUID_RE } from '../common/ids';
import { decodeCursor, Page, PageQuery, pageLimit, toPage } from '../common/pagination';
import { queryRows } from '../database/sql';
import { resolveRef } from './entry-input';
import { LedgerAccounts } from './ledger-accounts';
import { LedgerErrors } from './ledger.errors';
import { AccountBalance, AccountName, AccountRef, Asset, ASSETS, LedgerLine } from './ledger.types';

/** The accounts GET /me/balances always lists, per asset (others appear when they exist). */
const LISTED: Record<Asset, string[]> = {
  CREDIT: ['wallet', 'earnings', 'earnings_pending', 'reseller_stock', 'bond', 'held', 'debt'],
  PROMO: ['wallet', 'held'],
  DEV_TOKEN: ['wallet', 'held'],
};

/** An account's posted balance: its balance row `b` plus its pending credits. */
const POSTED = `(b.balance + coalesce((SELECT sum(c.amount) FROM ledger_pending_credits c WHERE c.account_id = b.account_id), 0))`;

interface LineRow {
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

/**
 * Reads: balances (available = posted - held), point-in-time balances and account histories with the
 * balance after each posting. Each read is one statement, so it sees one consistent snapshot.
 */
@Injectable()
export class LedgerBalances {
  constructor(
    private readonly dataSource: DataSource,
    private readonly accounts: LedgerAccounts,
  ) {}

  /** Now, or as of a business-clock time (entries recorded at or before it; holds open at that time). */
  async balance(account: AccountRef, asOf?: Date): Promise<AccountBalance> {
    const ref = resolveRef(account, 'account');
    if (asOf !== undefined && (!(asOf instanceof Date) || Number.isNaN(asOf.getTime())))
      throw LedgerErrors.invalid('must be a date', 'asOf');
    const info = (await this.accounts.find(undefined, [ref])).get(ref.key);
    if (!info) return { posted: 0n, held: 0n, available: 0n };
    const [row] = await queryRows<{ posted: string; held: string }>(
      this.dataSource,
      asOf === undefined
        ? `SELECT ${POSTED}::text AS posted, b.held::text AS held FROM ledger_balances b WHERE b.account_id = $1`
        : `SELECT (SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p JOIN ledger_entries e ON e.id = p.entry_id
                    WHERE p.account_id = $1 AND e.created_at <= $2)::text AS posted,
                  (SELECT coalesce(sum(h.amount), 0) FROM ledger_holds h
                    WHERE h.from_account_id = $1 AND h.created_at <= $2 AND (h.closed_at IS NULL OR h.closed_at > $2))::text AS held`,
      asOf === undefined ? [info.id] : [info.id, asOf],
    );
    const posted = BigInt(row.posted);
    const held = BigInt(row.held);
    return { posted, held, available: posted - held };
  }

  /**
   * The shape of GET /me/balances: posted balance per account, `held` (reserved by pending holds,
   * part of those balances) and `debt` as the positive amount owed.
   */
  async userBalances(userId: string): Promise<Record<Asset, Record<string, bigint>>> {
    if (typeof userId !== 'string' || !UUID_RE.test(userId)) throw LedgerErrors.invalid('must be a UUID', 'userId');
    const out = Object.fromEntries(ASSETS.map((a) => [a, Object.fromEntries(LISTED[a].map((n) => [n, 0n]))])) as Record<
      Asset,
      Record<string, bigint>
    >;
    const rows = await queryRows<{ asset: Asset; name: string; balance: string; held: string }>(
      this.dataSource,
      `SELECT a.asset, a.name, ${POSTED}::text AS balance, b.held::text AS held
         FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
        WHERE a.owner_id = $1`,
      [userId.toLowerCase()],
    );
    for (const r of rows) {
      const balance = BigInt(r.balance);
      out[r.asset][r.name] = r.name === 'debt' ? -balance : balance;
      out[r.asset].held += BigInt(r.held);
    }
    return out;
  }

  /** Every posting on the user's accounts, newest first. */
  async history(userId: string, page: PageQuery): Promise<Page<LedgerLine>> {
    if (typeof userId !== 'string' || !UUID_RE.test(userId)) throw LedgerErrors.invalid('must be a UUID', 'userId');
    const ids = await queryRows<{ id: string }>(this.dataSource, 'SELECT id::text AS id FROM ledger_accounts WHERE owner_id = $1', [
      userId.toLowerCase(),
    ]);
    return this.lines(
      ids.map((r) => r.id),
      page,
    );
  }

  /** One account's postings, newest first. */
  async accountHistory(account: AccountRef, page: PageQuery): Promise<Page<LedgerLine>> {
    const ref = resolveRef(account, 'account');
    const info = (await this.accounts.find(undefined, [ref])).get(ref.key);
    return this.lines(info ? [info.id] : [], page);
  }

  /**
   * balance after a posting = the account's balance now minus every posting after it; the sum of the
   * later ones is taken once per account (from the page's newest row) and extended down the page.
   */
  private async lines(accountIds: string[], page: PageQuery): Promise<Page<LedgerLine>> {
    const limit = pageLimit(page);
    const before = decodeCursor(page.cursor, 1)?.[0];
    if (before !== undefined && !(typeof before === 'string' && /^\d{1,19}$/.test(before)))
      throw LedgerErrors.invalid('is not valid', 'cursor');
    if (!accountIds.length) return { items: [], nextCursor: null };
    const rows = await queryRows<LineRow>(
      this.dataSource,
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
      [accountIds, before ?? null, limit + 1],
    );
    return toPage(
      rows,
      limit,
      (r) => ({
        id: r.id,
        entryId: r.entry_id,
        account: r.name,
        asset: r.asset,
        amount: BigInt(r.amount),
        balanceAfter: BigInt(r.balance_after),
        kind: r.kind,
        createdAt: r.created_at,
      }),
      (r) => [r.seq],
    );
  }
}
