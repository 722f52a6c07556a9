import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { queryRows } from '../database/sql';
import { ResolvedRef } from './entry-input';

export interface AccountInfo extends ResolvedRef {
  /** bigint id, as text. */
  id: string;
}

const CACHE_LIMIT = 200_000;

interface AccountRow {
  id: string;
  owner_id: string;
  asset: string;
  name: string;
  settled: boolean;
}

/**
 * Ledger accounts: found by (owner, asset, name), created lazily and safely under concurrency (INSERT ...
 * ON CONFLICT DO NOTHING, then read). Accounts never change once created, so committed ones are cached.
 */
@Injectable()
export class LedgerAccounts {
  private readonly cache = new Map<string, AccountInfo>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
  ) {}

  /**
   * The existing accounts among `refs`. Rows are cached only when settled, i.e. written by a
   * transaction that was over before this read began: a row the caller's own transaction created may
   * still roll back.
   */
  async find(db: EntityManager | undefined, refs: ResolvedRef[]): Promise<Map<string, AccountInfo>> {
    const found = new Map<string, AccountInfo>();
    const missing = new Map<string, ResolvedRef>();
    for (const r of refs) {
      const hit = this.cache.get(r.key);
      if (hit) found.set(r.key, hit);
      else missing.set(r.key, r);
    }
    if (missing.size === 0) return found;
    for (const row of await this.select(db ?? this.dataSource, [...missing.values()])) {
      const info = this.toInfo(missing, row);
      found.set(info.key, info);
      if (row.settled) this.remember([info]);
    }
    return found;
  }

  /** Creates the accounts that do not exist yet (with their balance row), then returns them all. */
  async ensure(em: EntityManager, refs: ResolvedRef[]): Promise<Map<string, AccountInfo>> {
    const byKey = new Map(refs.map((r) => [r.key, r]));
    const list = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
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
      [list.map((r) => r.ownerId), list.map((r) => r.asset), list.map((r) => r.name), this.clock.now()],
      { prepare: true },
    );
    // A new statement: it sees our rows and those a concurrent creator committed while we waited on it.
    const rows = await this.select(em, list);
    const out = new Map<string, AccountInfo>();
    for (const row of rows) {
      const info = this.toInfo(byKey, row);
      out.set(info.key, info);
    }
    if (out.size !== byKey.size) {
      // Only reachable if an account row we just inserted is invisible, i.e. never.
      throw new Error('ledger accounts could not be created');
    }
    return out;
  }

  remember(infos: Iterable<AccountInfo>): void {
    for (const info of infos) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(info.key, info);
    }
  }

  private select(db: EntityManager | DataSource, list: ResolvedRef[]): Promise<AccountRow[]> {
    return queryRows<AccountRow>(
      db,
      `SELECT a.id::text AS id, a.owner_id, a.asset, a.name,
              age(a.xmin) > age(pg_snapshot_xmin(pg_current_snapshot())::xid) AS settled
         FROM ledger_accounts a
         JOIN unnest($1::uuid[], $2::text[], $3::text[]) AS k(owner_id, asset, name)
           ON a.owner_id = k.owner_id AND a.asset = k.asset AND a.name = k.name`,
      [list.map((r) => r.ownerId), list.map((r) => r.asset), list.map((r) => r.name)],
      { prepare: true },
    );
  }

  private toInfo(refs: Map<string, ResolvedRef>, row: AccountRow): AccountInfo {
    const key = `${row.owner_id}/${row.asset}/${row.name}`;
    const ref = refs.get(key);
    if (!ref) throw new Error(`unexpected ledger account ${key}`);
    return { ...ref, id: row.id };
  }
}
