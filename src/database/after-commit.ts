import { EventSubscriber } from 'typeorm';
import type { EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';

interface Pending {
  depth: number;
  fn: () => void;
}

const pending = new WeakMap<QueryRunner, Pending[]>();

/** TypeORM keeps the savepoint depth protected; it tells which callbacks a savepoint's rollback drops. */
const depthOf = (runner: QueryRunner): number => (runner as unknown as { transactionDepth: number }).transactionDepth;

/**
 * Runs `fn` once the transaction `em` belongs to has committed, and never if it rolls back (a retried
 * attempt's callbacks go with it): for logs and metrics of an effect, which must count it once.
 * Outside a transaction `fn` runs at once.
 */
export function afterCommit(em: EntityManager, fn: () => void): void {
  const runner = em.queryRunner;
  if (!runner?.isTransactionActive) return fn();
  const list = pending.get(runner) ?? [];
  list.push({ depth: depthOf(runner), fn });
  pending.set(runner, list);
}

/** The TypeORM subscriber that fires `afterCommit` callbacks (registered in DatabaseModule). */
@EventSubscriber()
export class AfterCommitSubscriber implements EntitySubscriberInterface {
  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    if (runner.isTransactionActive) return; // a savepoint released: the outer transaction may still roll back
    const list = pending.get(runner);
    if (!list) return;
    pending.delete(runner);
    for (const p of list) p.fn();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const list = pending.get(runner);
    if (!list) return;
    // Rolled back to a savepoint: only what was registered inside it is dropped.
    const kept = runner.isTransactionActive ? list.filter((p) => p.depth <= depthOf(runner)) : [];
    if (kept.length) pending.set(runner, kept);
    else pending.delete(runner);
  }
}
