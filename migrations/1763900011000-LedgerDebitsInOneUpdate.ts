import { MigrationInterface, QueryRunner } from 'typeorm';
import { INDEXED, lockThenUpdate, postingsApply } from './1763900008000-LedgerIndexedChecks';

/**
 * The postings trigger applies a statement's debits (and direct credits) with one UPDATE where it used
 * a locking SELECT and then the UPDATE: rows whose balance covers their debit by itself (nearly all)
 * are locked and moved in that one statement, in key order (the order the primary key's index returns
 * `= ANY(debited)`). Only the rows it leaves, which fall short without their pending credits, get those
 * folded in and are then debited, under the same CHECK as before. A writer that locked its payers
 * first (the application always does) sees no difference in lock order; what each account ends with
 * is unchanged.
 */
export class LedgerDebitsInOneUpdate1763900011000 implements MigrationInterface {
  name = 'LedgerDebitsInOneUpdate1763900011000';

  async up(q: QueryRunner): Promise<void> {
    await replace(q, postingsApply(INDEXED, ONE_UPDATE));
  }

  async down(q: QueryRunner): Promise<void> {
    await replace(q, postingsApply(INDEXED, lockThenUpdate(INDEXED)));
  }
}

/** CREATE OR REPLACE drops a function's settings: the trigger keeps its one plan per connection (see migration 8). */
async function replace(q: QueryRunner, sql: string): Promise<void> {
  await q.query(sql);
  await q.query(`ALTER FUNCTION ledger_postings_apply() SET plan_cache_mode = force_generic_plan`);
}

const ONE_UPDATE = `        IF debited IS NOT NULL THEN
          -- every debit its row covers by itself, locked and applied in key order
          WITH moved AS (
            UPDATE ledger_balances b SET balance = b.balance + u.delta
              FROM unnest(ids, deltas, locking) AS u(account_id, delta, debit)
             WHERE u.debit AND b.account_id = u.account_id AND b.account_id = ANY(debited)
               AND (u.delta >= 0 OR b.balance - b.held + u.delta >= 0)
            RETURNING b.account_id
          )
          SELECT array_agg(d.account_id ORDER BY d.account_id) INTO need
            FROM unnest(debited) AS d(account_id) WHERE d.account_id NOT IN (SELECT m.account_id FROM moved m);
          -- the others fall short by the row alone: fold their pending credits in, then debit them
          IF need IS NOT NULL THEN
            PERFORM ledger_fold(need);
            UPDATE ledger_balances b SET balance = b.balance + u.delta
              FROM unnest(ids, deltas) AS u(account_id, delta)
             WHERE b.account_id = u.account_id AND b.account_id = ANY(need);
          END IF;
        END IF;
`;
