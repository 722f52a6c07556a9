import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { ResolvedRef } from './entry-input';

/** A ledger account as read from ledger_accounts. */
export interface AccountRow {
  /** bigint id, as text. */
  id: string;
  owner_id: string;
  asset: string;
  name: string;
  /** Written by a transaction that was over before this read began (so it cannot roll back any more). */
  settled: boolean;
}

/** The key an account row is known by (ResolvedRef.key). */
export const accountKey = (row: AccountRow): string => `${row.owner_id}/${row.asset}/${row.name}`;

/** ledger_accounts and the balance row each account is created with. */
@Injectable()
export class LedgerAccountsRepository {
  /** Creates the accounts that do not exist yet, each with its balance row; existing ones are left alone. */
  async create(em: EntityManager, refs: ResolvedRef[], now: Date): Promise<void> {
    await queryRows(
      em,
      `WITH created AS (
         INSERT INTO ledger_accounts (owner_id, asset, name, allow_negative, created_at)
         SELECT owner_id, asset, name, name IN ('issuance', 'debt'), $4
           FROM unnest($1::uuid[], $2::text[], $3::text[]) AS k(owner_id, asset, name)
         ON CONFLICT (owner_id, asset, name) DO NOTHING
         RETURNING id, allow_negative
       )
       INSERT INTO ledger_balances (account_id, allow_negative) SELECT id, allow_negative FROM created`,
      [refs.map((r) => r.ownerId), refs.map((r) => r.asset), refs.map((r) => r.name), now],
      { prepare: true },
    );
  }

  find(db: EntityManager | DataSource, refs: ResolvedRef[]): Promise<AccountRow[]> {
    return queryRows<AccountRow>(
      db,
      `SELECT a.id::text AS id, a.owner_id, a.asset, a.name,
              age(a.xmin) > age(pg_snapshot_xmin(pg_current_snapshot())::xid) AS settled
         FROM ledger_accounts a
         JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS k(owner_id, asset, name)
           ON a.owner_id = k.owner_id AND a.asset = k.asset AND a.name = k.name`,
      [refs.map((r) => r.ownerId), refs.map((r) => r.asset), refs.map((r) => r.name)],
      { prepare: true },
    );
  }

  /**
   * Serializes one user's debt movements (every asset) until `em`'s transaction ends: a transaction-scoped
   * advisory lock, so that two grants repaying the same debt at once never overpay it.
   */
  async lockDebt(em: EntityManager, ownerId: string): Promise<void> {
    await queryRows(em, `SELECT pg_advisory_xact_lock(hashtextextended('payments:debt:' || $1, 0))`, [ownerId]);
  }

  /** The ids of every account the owner has. */
  async idsOfOwner(db: EntityManager | DataSource, ownerId: string): Promise<string[]> {
    const rows = await queryRows<{ id: string }>(db, 'SELECT id::text AS id FROM ledger_accounts WHERE owner_id = $1', [ownerId]);
    return rows.map((r) => r.id);
  }
}
