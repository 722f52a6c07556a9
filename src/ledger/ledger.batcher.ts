import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { AppError } from '../common/errors';
import { AppConfig } from '../config/app-config';
import { pgCode } from '../database/pg-errors';
import { TransactionRunner } from '../database/transaction-runner';
import { PreparedEntry } from './entry-input';
import { LedgerAccounts } from './ledger-accounts';
import { PostedEntry } from './ledger.types';
import { PostingEngine } from './posting.engine';

interface Job {
  entry: PreparedEntry;
  resolve(result: PostedEntry): void;
  reject(err: unknown): void;
}

/**
 * Group commit for `post()` calls that bring no transaction of their own (TigerBeetle-style batching):
 * concurrent calls queue up while a batch transaction is in flight, and the next transaction takes
 * everything queued (at most `batchMax`); up to `batchConcurrency` run at once when the queue is long.
 * Idle, a call goes out at once, alone; busy, dozens to hundreds share one commit and one fsync. Each entry is still decided on its own: refused
 * entries (funds, reference conflicts) are left out without touching the others, and a batch the
 * database refuses as a whole is split in halves until the culprit stands alone.
 * A caller's promise settles only after the batch transaction has committed.
 */
@Injectable()
export class LedgerBatcher implements BeforeApplicationShutdown {
  private queue: Job[] = [];
  private inFlight = 0;
  private idle?: () => void;

  constructor(
    private readonly engine: PostingEngine,
    private readonly accounts: LedgerAccounts,
    private readonly tx: TransactionRunner,
    private readonly config: AppConfig,
  ) {}

  submit(entry: PreparedEntry): Promise<PostedEntry> {
    return new Promise<PostedEntry>((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.pump();
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => (this.idle = resolve));
  }

  private pump(): void {
    const { batchConcurrency, batchMax, batchParallelMin } = this.config.ledger;
    // One batch goes out at once; another runs beside it only when enough is queued to be worth a
    // commit of its own (small parallel batches cost the database more per entry than one larger one).
    while (this.queue.length > 0 && (this.inFlight === 0 || (this.inFlight < batchConcurrency && this.queue.length >= batchParallelMin))) {
      const batch = this.queue.length <= batchMax ? this.queue : this.queue.slice(0, batchMax);
      this.queue = this.queue.length <= batchMax ? [] : this.queue.slice(batchMax);
      this.inFlight++;
      void this.run(batch).finally(() => {
        // Keep the slot until the callers just served have run their continuations (microtasks) and
        // queued their next entries: otherwise the next batch leaves nearly empty and batches stay small.
        setImmediate(() => {
          this.inFlight--;
          this.pump();
          if (this.inFlight === 0 && this.queue.length === 0) this.idle?.();
        });
      });
    }
  }

  private async run(batch: Job[]): Promise<void> {
    try {
      const result = await this.tx.run((em) =>
        this.engine.apply(
          em,
          batch.map((j) => j.entry),
          { directCredits: true },
        ),
      );
      this.accounts.remember(result.accounts);
      result.outcomes.forEach((o, i) => ('ok' in o ? batch[i].resolve(o.ok) : batch[i].reject(o.error)));
    } catch (err) {
      if (batch.length > 1 && isRefusal(err)) {
        const mid = batch.length >> 1;
        await this.run(batch.slice(0, mid));
        await this.run(batch.slice(mid));
        return;
      }
      for (const job of batch) job.reject(err);
    }
  }
}

/** An error about the data (a constraint), not about the database being unreachable. */
function isRefusal(err: unknown): boolean {
  const code = pgCode(err);
  return err instanceof AppError || (code !== undefined && (code.startsWith('23') || code === 'P0001' || code === '22003'));
}
