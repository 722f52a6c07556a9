import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { sortedBy } from '../common/compare';
import { afterCommit } from '../database/after-commit';
import { ResolvedRef } from './entry-input';
import { accountKey, AccountRow, LedgerAccountsRepository } from './ledger-accounts.repository';

export interface AccountInfo extends ResolvedRef {
  /** bigint id, as text. */
  id: string;
}

const CACHE_LIMIT = 200_000;

/**
 * Ledger accounts: found by (owner, asset, name), created lazily and safely under concurrency (an insert
 * that leaves existing rows alone, then a read). Accounts never change once created, so committed ones are cached
 * (those this process creates once their transaction has committed).
 */
@Injectable()
export class LedgerAccountsService {
  private readonly cache = new Map<string, AccountInfo>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly repo: LedgerAccountsRepository,
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
    for (const row of await this.repo.find(db ?? this.dataSource, [...missing.values()])) {
      const info = toInfo(missing, row);
      found.set(info.key, info);
      if (row.settled) this.remember(info);
    }
    return found;
  }

  /** Creates the accounts that do not exist yet (with their balance row), then returns them all. */
  async ensure(em: EntityManager, refs: ResolvedRef[]): Promise<Map<string, AccountInfo>> {
    const byKey = new Map(refs.map((r) => [r.key, r]));
    const list = sortedBy([...byKey.values()], (r) => r.key);
    await this.repo.create(em, list, this.clock.now());
    // A new statement: it sees our rows and those a concurrent creator committed while we waited on it.
    const out = new Map<string, AccountInfo>();
    for (const row of await this.repo.find(em, list)) {
      const info = toInfo(byKey, row);
      out.set(info.key, info);
    }
    if (out.size !== byKey.size) {
      // Only reachable if an account row we just inserted is invisible, i.e. never.
      throw new Error('ledger accounts could not be created');
    }
    // Once the transaction has committed, its rows can no longer roll back.
    afterCommit(em, () => out.forEach((info) => this.remember(info)));
    return out;
  }

  /** The ids of every account the owner has (not cached: a user's accounts appear over time). */
  idsOfOwner(ownerId: string): Promise<string[]> {
    return this.repo.idsOfOwner(this.dataSource, ownerId);
  }

  private remember(info: AccountInfo): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(info.key, info);
  }
}

function toInfo(refs: Map<string, ResolvedRef>, row: AccountRow): AccountInfo {
  const key = accountKey(row);
  const ref = refs.get(key);
  if (!ref) throw new Error(`unexpected ledger account ${key}`);
  return { ...ref, id: row.id };
}
