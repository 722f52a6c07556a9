import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The commit-time check that a transaction's entries balance groups the transaction's postings per
 * (entry, asset) once, then per entry, instead of sorting and grouping each entry's legs in a
 * subquery of its own (a sort per entry at every commit). Each posting is still reached through the
 * postings' primary key and each asset through the account's; what is refused is unchanged.
 * `down` restores the check of migration 8 (its SQL is written out here: migrations share nothing).
 */
export class LedgerBalancedCheckOneAggregate1763900012000 implements MigrationInterface {
  name = 'LedgerBalancedCheckOneAggregate1763900012000';

  async up(q: QueryRunner): Promise<void> {
    await replace(q, checkBalanced(ONE_AGGREGATE));
  }

  async down(q: QueryRunner): Promise<void> {
    await replace(q, checkBalanced(PER_ENTRY_LEGS));
  }
}

/** CREATE OR REPLACE drops a function's settings: the check keeps its one plan per connection (see migration 8). */
async function replace(q: QueryRunner, sql: string): Promise<void> {
  await q.query(sql);
  await q.query(`ALTER FUNCTION ledger_check_balanced() SET plan_cache_mode = force_generic_plan`);
}

/**
 * The deferred check of a transaction's entries. `findUnbalanced` selects INTO `bad` (id, legs, asset)
 * one entry of transaction NEW.xid with fewer than two postings or a nonzero sum in some asset.
 */
function checkBalanced(findUnbalanced: string): string {
  return `CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        bad record;
      BEGIN
${findUnbalanced}        IF FOUND THEN
          RAISE EXCEPTION 'ledger entry % does not balance (% posting(s); unbalanced in %)', bad.id, bad.legs, coalesce(bad.asset, '-')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
        END IF;
        DELETE FROM ledger_tx_checks WHERE xid = NEW.xid;
        RETURN NULL;
      END $$`;
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

// Migration 8's query: each entry's legs grouped per asset in a subquery of its own.
const PER_ENTRY_LEGS = `        SELECT e.id, coalesce(sum(x.legs), 0) AS legs, min(x.asset) FILTER (WHERE x.total <> 0) AS asset INTO bad
          FROM ledger_entries e
          LEFT JOIN LATERAL (
            SELECT l.asset, count(*) AS legs, sum(l.amount) AS total
              FROM (SELECT p.amount, (SELECT a.asset FROM ledger_accounts a WHERE a.id = p.account_id) AS asset
                      FROM ledger_postings p WHERE p.entry_id = e.id) l
             GROUP BY l.asset) x ON true
         WHERE e.xid = NEW.xid
         GROUP BY e.id
        HAVING coalesce(sum(x.legs), 0) < 2 OR bool_or(x.total <> 0)
         LIMIT 1;
`;
