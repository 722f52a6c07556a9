import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { DataSource, DataSourceOptions, EntityManager } from 'typeorm';
import { failedOn } from './pg-clients';
import { PgError, pgCode } from './pg-errors';

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  /** Attempts in all, including the first (serialization failures and deadlocks are retried). */
  attempts?: number;
  /**
   * The transaction's statements run on generic plans (plan_cache_mode, for this transaction only): a
   * prepared statement, or one inside a database function, is planned once per connection. For
   * transactions of fixed set-based statements over arrays (group-committed batches): PostgreSQL
   * estimates an array parameter at 10 elements in a generic plan, so for batches smaller than that the
   * custom plan always looked cheaper and every execution was planned again (planning took 1-5 times the
   * statement's execution). Statements that are not prepared are still planned each time, without
   * their values: keep searches whose best plan depends on them out of such transactions.
   */
  genericPlans?: boolean;
}

const RETRYABLE = new Set<string>([PgError.SERIALIZATION_FAILURE, PgError.DEADLOCK_DETECTED]);

/**
 * Runs a unit of work in one database transaction. Serialization failures and deadlocks roll the
 * whole attempt back and run it again, so `work` must not have side effects outside the database
 * (send those through the outbox). Pass an existing manager to join the caller's transaction.
 */
@Injectable()
export class TransactionRunner implements OnApplicationShutdown {
  private beside?: Promise<DataSource>;

  constructor(private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  /**
   * BEGIN (with the isolation level, if any) goes out together with the work's first statement
   * instead of on its own round trip: the connection pipelines it (see DatabaseModule).
   */
  async run<T>(work: (em: EntityManager) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    // READ COMMITTED is PostgreSQL's default: a plain BEGIN.
    const isolated = opts.isolation && opts.isolation !== 'READ COMMITTED' ? `BEGIN ISOLATION LEVEL ${opts.isolation}` : 'BEGIN';
    const begin = opts.genericPlans ? `${isolated}; SET LOCAL plan_cache_mode = force_generic_plan` : isolated;
    return this.retrying(() => this.attempt(this.dataSource, begin, work), opts);
  }

  private async attempt<T>(ds: DataSource, begin: string, work: (em: EntityManager) => Promise<T>): Promise<T> {
    const runner = ds.createQueryRunner();
    try {
      const client = (await runner.connect()) as PoolClient;
      const begun = client.query(begin);
      begun.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
      // What startTransaction() records, without waiting for BEGIN's answer (BEGIN only fails with
      // the connection, which fails the statements behind it too). No subscriber listens for a transaction's start.
      Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
      try {
        const result = await work(runner.manager);
        await begun;
        await runner.commitTransaction();
        return result;
      } catch (err) {
        await begun.catch(() => undefined);
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw failedOn(client, err);
      }
    } finally {
      await runner.release();
    }
  }

  private async retrying<T>(attempt: () => Promise<T>, opts: TransactionOptions): Promise<T> {
    const attempts = opts.attempts ?? 8;
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const code = pgCode(err);
        if (!code || !RETRYABLE.has(code) || n >= attempts) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** n));
      }
    }
  }

  /**
   * `run` on a small pool of its own, for records that must outlive the transaction the caller is in
   * (a refusal's record, written before the refusal rolls that transaction back). It never waits for
   * the main pool, so a caller holding a connection cannot exhaust it by waiting here.
   */
  async runBeside<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    const { options } = this.dataSource;
    this.beside ??= new DataSource({ ...options, migrations: [], extra: { ...options.extra, max: 2 } } as DataSourceOptions).initialize();
    const ds = await this.beside;
    return this.retrying(() => this.attempt(ds, 'BEGIN', work), {});
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.beside) await (await this.beside).destroy();
  }

  /** Joins `em`'s transaction when given one, otherwise starts a new one. */
  async within<T>(em: EntityManager | undefined, work: (em: EntityManager) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    if (em?.queryRunner?.isTransactionActive) return work(em);
    return this.run(work, opts);
  }
}
