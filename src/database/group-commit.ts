import { EntityManager } from 'typeorm';
import { AppError } from '../common/errors';
import { Outcome } from '../common/outcome';
import { pgCode } from './pg-errors';
import { TransactionRunner } from './transaction-runner';

export interface BatchResult<T> {
  outcomes: Outcome<T>[];
}

export interface GroupCommitLimits {
  /** Most units in one batch transaction. */
  max: number;
  /** Batch transactions in flight at once, at most. */
  concurrency: number;
  /** Units that must be queued before a further batch runs beside one in flight. */
  parallelMin: number;
  /** The batch's prepared statements run on their generic plans (TransactionOptions.genericPlans). */
  genericPlans?: boolean;
}

interface Job<I, O> {
  input: I;
  keys: string[];
  resolve(result: O): void;
  reject(err: unknown): void;
}

/**
 * Group commit (TigerBeetle-style batching) for units of work that bring no transaction of their own:
 * concurrent submissions queue while a batch transaction is in flight, and the next transaction takes
 * everything queued (at most `max`). Idle, a unit goes out at once, alone; busy, dozens share one
 * commit and one fsync. `work` decides each unit on its own (a refused unit does not affect the
 * others); a batch the database refuses as a whole is split in halves until the culprit stands alone.
 * A submitter's promise settles only after the batch transaction has committed.
 */
export class GroupCommit<I, O> {
  private queue: Job<I, O>[] = [];
  private inFlight = 0;
  private idle?: () => void;

  /**
   * `keysOf`: what a unit must not share with another unit of its batch (a payer, a reference, ...).
   * Such units go to later batches, in the order they came, so each is decided after the one before it
   * has committed, as if they had come one by one; `work` never sees two units with a key in common.
   * `splits`: which errors of a whole batch are worth splitting it for (default: the data's, not the
   * database being unreachable).
   */
  constructor(
    private readonly tx: TransactionRunner,
    private readonly limits: () => GroupCommitLimits,
    private readonly work: (em: EntityManager, inputs: I[]) => Promise<BatchResult<O>>,
    private readonly keysOf: (input: I) => string[] = () => [],
    private readonly splits: (err: unknown) => boolean = isRefusal,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, keys: this.keysOf(input), resolve, reject });
      this.pump();
    });
  }

  /** Resolves once nothing is queued or in flight. */
  async drained(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => (this.idle = resolve));
  }

  private pump(): void {
    const { max, concurrency, parallelMin } = this.limits();
    // One batch goes out at once; another runs beside it only when enough is queued to be worth a
    // commit of its own (small parallel batches cost the database more per unit than one larger one).
    while (this.queue.length > 0 && (this.inFlight === 0 || (this.inFlight < concurrency && this.queue.length >= parallelMin))) {
      const batch = this.take(max);
      this.inFlight++;
      void this.run(batch).finally(() => {
        // Keep the slot until the submitters just served have run their continuations (microtasks) and
        // queued their next units: otherwise the next batch leaves nearly empty and batches stay small.
        setImmediate(() => {
          this.inFlight--;
          this.pump();
          if (this.inFlight === 0 && this.queue.length === 0) this.idle?.();
        });
      });
    }
  }

  /** The next batch: queued units in order, at most `max`, none sharing a key with an earlier unit still queued. */
  private take(max: number): Job<I, O>[] {
    const batch: Job<I, O>[] = [];
    const rest: Job<I, O>[] = [];
    const taken = new Set<string>();
    for (const job of this.queue) {
      if (batch.length < max && job.keys.every((k) => !taken.has(k))) batch.push(job);
      else rest.push(job);
      // A unit left behind keeps its keys taken, so no later unit with one of them overtakes it.
      for (const k of job.keys) taken.add(k);
    }
    this.queue = rest;
    return batch;
  }

  private async run(batch: Job<I, O>[]): Promise<void> {
    try {
      const result = await this.tx.run(
        (em) =>
          this.work(
            em,
            batch.map((j) => j.input),
          ),
        { genericPlans: this.limits().genericPlans },
      );
      result.outcomes.forEach((o, i) => ('ok' in o ? batch[i].resolve(o.ok) : batch[i].reject(o.error)));
    } catch (err) {
      if (batch.length > 1 && this.splits(err)) {
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
