import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { AccountName, Asset } from './ledger.types';

/** One (asset, account name) summed over every owner: the postings' sum and, for issuance, its debits. */
export interface SupplyRow {
  asset: Asset;
  name: AccountName;
  balance: string;
  debits: string;
}

/** Debt movements of one interval: `created` what debt accounts were debited, `repaid` what they were credited. */
export interface DebtFlowRow {
  /** null: before the first interval (the opening outstanding). */
  bucket: number | null;
  created: string;
  repaid: string;
}

/** Read-only sums over the ledger for reports (GET /admin/economy/report); the caller's snapshot. */
@Injectable()
export class LedgerSupplyRepository {
  async readOnly(em: EntityManager): Promise<void> {
    await queryRows(em, 'SET TRANSACTION READ ONLY');
  }

  /** Every (asset, name) summed from the postings of entries created at or before `at` (null: every entry). */
  postedByName(em: EntityManager, at: Date | null): Promise<SupplyRow[]> {
    return queryRows<SupplyRow>(
      em,
      `SELECT a.asset, a.name, sum(p.amount)::text AS balance, coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)::text AS debits
         FROM ledger_postings p
         JOIN ledger_accounts a ON a.id = p.account_id
        WHERE $1::timestamptz IS NULL OR p.entry_id IN (SELECT e.id FROM ledger_entries e WHERE e.created_at <= $1)
        GROUP BY a.asset, a.name`,
      [at],
    );
  }

  /** Every (asset, name) summed from the balance rows and their pending credits (what verify sums); `debits` is 0. */
  balancesByName(em: EntityManager): Promise<SupplyRow[]> {
    return queryRows<SupplyRow>(
      em,
      `SELECT a.asset, a.name, sum(b.balance + coalesce(c.pending, 0))::text AS balance, '0' AS debits
         FROM ledger_balances b
         JOIN ledger_accounts a ON a.id = b.account_id
         LEFT JOIN (SELECT account_id, sum(amount) AS pending FROM ledger_pending_credits GROUP BY account_id) c ON c.account_id = b.account_id
        GROUP BY a.asset, a.name`,
    );
  }

  /** CREDIT debt accounts' movements per interval of `stepSeconds` from `from` to `to`, and their sum before `from`. */
  debtFlows(db: DataSource | EntityManager, from: Date, to: Date, stepSeconds: number): Promise<DebtFlowRow[]> {
    return queryRows<DebtFlowRow>(
      db,
      `SELECT CASE WHEN e.created_at < $1 THEN NULL ELSE floor(extract(epoch FROM e.created_at - $1) / $3)::int END AS bucket,
              coalesce(-sum(p.amount) FILTER (WHERE p.amount < 0), 0)::text AS created,
              coalesce(sum(p.amount) FILTER (WHERE p.amount > 0), 0)::text AS repaid
         FROM ledger_accounts a
         JOIN ledger_postings p ON p.account_id = a.id
         JOIN ledger_entries e ON e.id = p.entry_id
        WHERE a.name = 'debt' AND a.asset = 'CREDIT' AND e.created_at < $2
        GROUP BY 1`,
      [from, to, stepSeconds],
    );
  }
}
