import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { PgError, pgCode } from './pg-errors';

export type IsolationLevel = 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE';

export interface TransactionOptions {
  isolation?: IsolationLevel;
  /** Attempts in all, including the first (serialization failures and deadlocks are retried). */
  attempts?: number;
}

const RETRYABLE = new Set<string>([PgError.SERIALIZATION_FAILURE, PgError.DEADLOCK_DETECTED]);

/**
 * Runs a unit of work in one database transaction. Serialization failures and deadlocks roll the
 * whole attempt back and run it again, so `work` must not have side effects outside the database
 * (send those through the outbox). Pass an existing manager to join the caller's transaction.
 */
@Injectable()
export class TransactionRunner {
  constructor(private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return this.dataSource.manager;
  }

  async run<T>(work: (em: EntityManager) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const attempts = opts.attempts ?? 8;
    for (let attempt = 1; ; attempt++) {
      try {
        // READ COMMITTED is PostgreSQL's default: a plain BEGIN, without a SET TRANSACTION round trip.
        const isolation = opts.isolation && opts.isolation !== 'READ COMMITTED' ? opts.isolation : undefined;
        return await (isolation ? this.dataSource.transaction(isolation, work) : this.dataSource.transaction(work));
      } catch (err) {
        const code = pgCode(err);
        if (!code || !RETRYABLE.has(code) || attempt >= attempts) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 5 * 2 ** attempt));
      }
    }
  }

  /** Joins `em`'s transaction when given one, otherwise starts a new one. */
  async within<T>(em: EntityManager | undefined, work: (em: EntityManager) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    if (em?.queryRunner?.isTransactionActive) return work(em);
    return this.run(work, opts);
  }
}
