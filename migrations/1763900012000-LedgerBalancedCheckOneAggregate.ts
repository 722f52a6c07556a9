import { MigrationInterface, QueryRunner } from 'typeorm';
import { checkBalanced, INDEXED, perEntryLegs } from './1763900008000-LedgerIndexedChecks';

/**
 * The commit-time check that a transaction's entries balance groups the transaction's postings per
 * (entry, asset) once, then per entry, instead of sorting and grouping each entry's legs in a
 * subquery of its own (a sort per entry at every commit). Each posting is still reached through the
 * postings' primary key and each asset through the account's; what is refused is unchanged.
 */
export class LedgerBalancedCheckOneAggregate1763900012000 implements MigrationInterface {
  name = 'LedgerBalancedCheckOneAggregate1763900012000';

  async up(q: QueryRunner): Promise<void> {
    await replace(q, checkBalanced(ONE_AGGREGATE));
  }

  async down(q: QueryRunner): Promise<void> {
    await replace(q, checkBalanced(perEntryLegs(INDEXED)));
  }
}

/** CREATE OR REPLACE drops a function's settings: the check keeps its one plan per connection (see migration 8). */
async function replace(q: QueryRunner, sql: string): Promise<void> {
  await q.query(sql);
  await q.query(`ALTER FUNCTION ledger_check_balanced() SET plan_cache_mode = force_generic_plan`);
}

// An entry without postings comes out of the lateral join once, with no amount: 0 legs.
const ONE_AGGREGATE = `        SELECT x.id, sum(x.legs) AS legs, min(x.asset) FILTER (WHERE x.total <> 0) AS asset INTO bad
          FROM (SELECT e.id, l.asset, count(l.amount) AS legs, coalesce(sum(l.amount), 0) AS total
                  FROM ledger_entries e
                  LEFT JOIN LATERAL (
                    SELECT p.amount, (SELECT a.asset FROM ledger_accounts a WHERE a.id = p.account_id) AS asset
                      FROM ledger_postings p WHERE p.entry_id = e.id) l ON true
                 WHERE e.xid = NEW.xid
                 GROUP BY e.id, l.asset) x
         GROUP BY x.id
        HAVING sum(x.legs) < 2 OR bool_or(x.total <> 0)
         LIMIT 1;
`;
