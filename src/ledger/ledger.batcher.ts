import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { GroupCommit, GroupCommitLimits } from '../database/group-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { PreparedEntry } from './entry-input';
import { LedgerAccounts } from './ledger-accounts';
import { PostedEntry } from './ledger.types';
import { PostingEngine } from './posting.engine';

/**
 * Group commit for ledger writes that bring no transaction of their own (see GroupCommit): `post()`
 * calls, and the stand-alone holds and captures of LedgerHolds, each kind in batches of its own.
 */
@Injectable()
export class LedgerBatcher implements BeforeApplicationShutdown {
  private readonly posts: GroupCommit<PreparedEntry, PostedEntry>;
  private readonly groups: GroupCommit<never, unknown>[] = [];

  constructor(
    private readonly tx: TransactionRunner,
    private readonly config: AppConfig,
    engine: PostingEngine,
    accounts: LedgerAccounts,
  ) {
    this.posts = this.group(async (em, entries) => {
      const result = await engine.apply(em, entries, { directCredits: true, last: true });
      return { outcomes: result.outcomes, afterCommit: () => accounts.remember(result.accounts) };
    });
  }

  submit(entry: PreparedEntry): Promise<PostedEntry> {
    return this.posts.submit(entry);
  }

  /** A group commit with the ledger's batch limits (LEDGER_BATCH_*); `keysOf` as for GroupCommit. */
  group<I, O>(
    work: ConstructorParameters<typeof GroupCommit<I, O>>[2],
    keysOf?: ConstructorParameters<typeof GroupCommit<I, O>>[3],
  ): GroupCommit<I, O> {
    const limits = (): GroupCommitLimits => {
      const { batchMax, batchConcurrency, batchParallelMin } = this.config.ledger;
      return { max: batchMax, concurrency: batchConcurrency, parallelMin: batchParallelMin };
    };
    const group = new GroupCommit<I, O>(this.tx, limits, work, keysOf);
    this.groups.push(group as unknown as GroupCommit<never, unknown>);
    return group;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.groups.map((g) => g.drained()));
  }
}
