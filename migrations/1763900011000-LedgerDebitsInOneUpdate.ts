import { MigrationInterface, QueryRunner } from 'typeorm';
import { INDEXED, lockThenUpdate, postingsApply } from './1763900008000-LedgerIndexedChecks';

/**
 * The postings trigger locks a statement's debited rows and applies the debits (and direct credits)
 * that each row covers by itself (nearly all) in one statement, where it used a locking SELECT and
 * then an UPDATE. Rows are still locked in key order, all of them before anything is folded or
 * debited; only the rows that fall short without their pending credits get those folded in and are
 * then debited, under the same CHECK as before. What each account ends with is unchanged.
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
          -- lock in key order, and debit every row that covers its debit by itself, in one statement
          WITH locked AS MATERIALIZED (
            SELECT b.account_id FROM ledger_balances b WHERE b.account_id = ANY(debited) ORDER BY b.account_id FOR NO KEY UPDATE
          ), moved AS (
            UPDATE ledger_balances b SET balance = b.balance + u.delta
              FROM locked l JOIN unnest(ids, deltas, locking) AS u(account_id, delta, debit) ON u.account_id = l.account_id
             WHERE u.debit AND b.account_id = l.account_id
               AND (u.delta >= 0 OR b.balance - b.held + u.delta >= 0)
            RETURNING b.account_id
          )
          SELECT array_agg(l.account_id ORDER BY l.account_id) INTO need
            FROM locked l WHERE l.account_id NOT IN (SELECT m.account_id FROM moved m);
          -- the others (locked already) fall short by the row alone: fold their pending credits in, then debit them
          IF need IS NOT NULL THEN
            PERFORM ledger_fold(need);
            UPDATE ledger_balances b SET balance = b.balance + u.delta
              FROM unnest(ids, deltas) AS u(account_id, delta)
             WHERE b.account_id = u.account_id AND b.account_id = ANY(need);
          END IF;
        END IF;
`;
