import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger writes only inside its callers' transactions now, and those never lock a receiver's
 * balance row: the batch-only "direct credits" path is gone. ledger_lock_find_read loses its
 * `receivers` parameter (which locked a batch's free receivers, SKIP LOCKED, and told the postings
 * trigger through the setting ledger.direct_credits to credit them in place), and the postings trigger
 * no longer reads that setting: a credit is a pending credit unless the same statement debits the
 * account. What either function does for every caller left is unchanged. Self-contained: `down`
 * restores both functions as migrations 1763900008000 and 1763900010000 left them.
 */
export class LedgerDirectCreditsDropped1763900013000 implements MigrationInterface {
  name = 'LedgerDirectCreditsDropped1763900013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ledger_lock_find_read(boolean, text[], bigint[], bigint[], bigint[])`);
    await q.query(`CREATE FUNCTION ledger_lock_find_read(holds boolean, refs text[], payers bigint[], needs bigint[])
      RETURNS TABLE (id text, reference text, content_hash text, account_id text, available text, fresh boolean)
      LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
      #variable_conflict use_column
      BEGIN
        IF holds THEN
          RETURN QUERY ${lockFindRead('ledger_holds')};
        ELSE
          RETURN QUERY ${lockFindRead('ledger_entries')};
        END IF;
      END $$`);
    await q.query(POSTINGS_APPLY);
    // CREATE OR REPLACE drops the function's settings: it keeps its one plan per connection.
    await q.query(`ALTER FUNCTION ledger_postings_apply() SET plan_cache_mode = force_generic_plan`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ledger_lock_find_read(boolean, text[], bigint[], bigint[])`);
    await q.query(`CREATE FUNCTION ledger_lock_find_read(holds boolean, refs text[], payers bigint[], needs bigint[], receivers bigint[])
      RETURNS TABLE (id text, reference text, content_hash text, account_id text, available text, fresh boolean)
      LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
      #variable_conflict use_column
      BEGIN
        IF holds THEN
          RETURN QUERY ${lockFindReadWithReceivers('ledger_holds')};
        ELSE
          RETURN QUERY ${lockFindReadWithReceivers('ledger_entries')};
        END IF;
      END $$`);
    await q.query(POSTINGS_APPLY_WITH_DIRECT_CREDITS);
    await q.query(`ALTER FUNCTION ledger_postings_apply() SET plan_cache_mode = force_generic_plan`);
  }
}

/**
 * Locks the payers' rows in key order (the first branch runs first), reads what each can spend (its
 * pending credits only when its row does not cover its need, and then whether the row changed after
 * the statement's snapshot), and finds the rows of `table` that already carry the references.
 */
function lockFindRead(table: 'ledger_entries' | 'ledger_holds'): string {
  return `WITH locked AS MATERIALIZED (
           SELECT b.account_id, b.balance - b.held AS own, b.xmin AS version FROM ledger_balances b
            WHERE b.account_id = ANY(payers) ORDER BY b.account_id FOR NO KEY UPDATE
         )
         SELECT NULL::text, NULL::text, NULL::text, l.account_id::text,
                (CASE WHEN l.own >= n.need THEN l.own
                      ELSE l.own + coalesce((SELECT sum(c.amount) FROM ledger_pending_credits c WHERE c.account_id = l.account_id), 0) END)::text,
                CASE WHEN l.own >= n.need THEN true
                     ELSE l.version = (SELECT s.xmin FROM ledger_balances s WHERE s.account_id = l.account_id) END
           FROM locked l LEFT JOIN unnest(payers, needs) AS n(account_id, need) ON n.account_id = l.account_id
         UNION ALL
         SELECT t.id::text, t.reference, t.content_hash::text, NULL, NULL, NULL FROM ${table} t WHERE t.reference = ANY(refs)`;
}

/** The statement as migration 1763900010000 made it (with a batch's receivers and the direct-credits setting). */
function lockFindReadWithReceivers(table: 'ledger_entries' | 'ledger_holds'): string {
  return `WITH locked AS MATERIALIZED (
           SELECT b.account_id, b.balance - b.held AS own, b.xmin AS version FROM ledger_balances b
            WHERE b.account_id = ANY(payers) ORDER BY b.account_id FOR NO KEY UPDATE
         ), got AS MATERIALIZED (
           SELECT b.account_id FROM ledger_balances b
            WHERE b.account_id = ANY(receivers) AND (SELECT count(*) FROM locked) >= 0
            ORDER BY b.account_id FOR NO KEY UPDATE SKIP LOCKED
         ), direct AS MATERIALIZED (
           SELECT set_config('ledger.direct_credits', coalesce(string_agg(g.account_id::text, ','), ''), true) FROM got g
         )
         SELECT x.* FROM direct LEFT JOIN LATERAL (
           SELECT NULL::text, NULL::text, NULL::text, l.account_id::text,
                  (CASE WHEN l.own >= n.need THEN l.own
                        ELSE l.own + coalesce((SELECT sum(c.amount) FROM ledger_pending_credits c WHERE c.account_id = l.account_id), 0) END)::text,
                  CASE WHEN l.own >= n.need THEN true
                       ELSE l.version = (SELECT s.xmin FROM ledger_balances s WHERE s.account_id = l.account_id) END
             FROM locked l LEFT JOIN unnest(payers, needs) AS n(account_id, need) ON n.account_id = l.account_id
           UNION ALL
           SELECT t.id::text, t.reference, t.content_hash::text, NULL, NULL, NULL FROM ${table} t WHERE t.reference = ANY(refs)
         ) x ON true`;
}

/** The postings trigger: a debit locks its row (key order) and moves it; every other movement is a pending credit. */
const POSTINGS_APPLY = `CREATE OR REPLACE FUNCTION ledger_postings_apply() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        foreign_entries bigint;
        missing bigint;
        pending bigint;
        ids bigint[];
        deltas bigint[];
        negative boolean[];
        locking boolean[];
        debited bigint[];
        need bigint[];
      BEGIN
        SELECT (SELECT count(*) FROM (SELECT DISTINCT p.entry_id FROM new_postings p) n
                 WHERE (SELECT e.xid FROM ledger_entries e WHERE e.id = n.entry_id) IS DISTINCT FROM pg_current_xact_id()),
               count(*) FILTER (WHERE d.allow_negative IS NULL),
               count(*) FILTER (WHERE NOT d.locking AND d.delta <> 0),
               array_agg(d.account_id ORDER BY d.account_id), array_agg(d.delta ORDER BY d.account_id),
               array_agg(d.allow_negative ORDER BY d.account_id), array_agg(d.locking ORDER BY d.account_id),
               array_agg(d.account_id ORDER BY d.account_id) FILTER (WHERE d.locking)
          INTO foreign_entries, missing, pending, ids, deltas, negative, locking, debited
          FROM (SELECT s.account_id, s.delta, s.allow_negative,
                       coalesce(NOT s.allow_negative AND s.delta < 0, false) AS locking
                  FROM (SELECT p.account_id, sum(p.amount)::bigint AS delta,
                       (SELECT b.allow_negative FROM ledger_balances b WHERE b.account_id = p.account_id) AS allow_negative
                  FROM new_postings p GROUP BY p.account_id) s) d;
        IF foreign_entries > 0 THEN
          RAISE EXCEPTION 'postings can only be added to an entry written by the same transaction'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_postings_entry';
        END IF;
        IF missing > 0 THEN
          RAISE EXCEPTION 'postings name an account that does not exist'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_postings_account';
        END IF;
        IF debited IS NOT NULL THEN
          -- lock in key order, and find the debits the row alone cannot cover: their pending credits are folded in
          SELECT array_agg(x.account_id) FILTER (WHERE x.balance - x.held + u.delta < 0) INTO need
            FROM (SELECT b.account_id, b.balance, b.held FROM ledger_balances b WHERE b.account_id = ANY(debited)
                   ORDER BY b.account_id FOR NO KEY UPDATE) x
            JOIN unnest(ids, deltas) AS u(account_id, delta) ON u.account_id = x.account_id;
          IF need IS NOT NULL THEN
            PERFORM ledger_fold(need);
          END IF;
          UPDATE ledger_balances b SET balance = b.balance + u.delta
            FROM unnest(ids, deltas, locking) AS u(account_id, delta, debit)
           WHERE u.debit AND b.account_id = u.account_id AND b.account_id = ANY(debited);
        END IF;
        IF pending > 0 THEN
          INSERT INTO ledger_pending_credits (account_id, allow_negative, amount)
          SELECT u.account_id, u.negative, u.delta FROM unnest(ids, deltas, negative, locking) AS u(account_id, delta, negative, debit)
           WHERE NOT u.debit AND u.delta <> 0;
        END IF;
        RETURN NULL;
      END $$`;

/** The postings trigger as migration 1763900008000 left it. */
const POSTINGS_APPLY_WITH_DIRECT_CREDITS = `CREATE OR REPLACE FUNCTION ledger_postings_apply() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        -- accounts the writer has locked already (in key order): credit them on their row
        direct bigint[] := string_to_array(nullif(current_setting('ledger.direct_credits', true), ''), ',')::bigint[];
        foreign_entries bigint;
        missing bigint;
        pending bigint;
        ids bigint[];
        deltas bigint[];
        negative boolean[];
        locking boolean[];
        debited bigint[];
        need bigint[];
      BEGIN
        SELECT (SELECT count(*) FROM (SELECT DISTINCT p.entry_id FROM new_postings p) n
                 WHERE (SELECT e.xid FROM ledger_entries e WHERE e.id = n.entry_id) IS DISTINCT FROM pg_current_xact_id()),
               count(*) FILTER (WHERE d.allow_negative IS NULL),
               count(*) FILTER (WHERE NOT d.locking AND d.delta <> 0),
               array_agg(d.account_id ORDER BY d.account_id), array_agg(d.delta ORDER BY d.account_id),
               array_agg(d.allow_negative ORDER BY d.account_id), array_agg(d.locking ORDER BY d.account_id),
               array_agg(d.account_id ORDER BY d.account_id) FILTER (WHERE d.locking)
          INTO foreign_entries, missing, pending, ids, deltas, negative, locking, debited
          FROM (SELECT s.account_id, s.delta, s.allow_negative,
                       coalesce(NOT s.allow_negative AND (s.delta < 0 OR s.account_id = ANY(direct)), false) AS locking
                  FROM (SELECT p.account_id, sum(p.amount)::bigint AS delta,
                       (SELECT b.allow_negative FROM ledger_balances b WHERE b.account_id = p.account_id) AS allow_negative
                  FROM new_postings p GROUP BY p.account_id) s) d;
        IF foreign_entries > 0 THEN
          RAISE EXCEPTION 'postings can only be added to an entry written by the same transaction'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_postings_entry';
        END IF;
        IF missing > 0 THEN
          RAISE EXCEPTION 'postings name an account that does not exist'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_postings_account';
        END IF;
        IF debited IS NOT NULL THEN
          -- lock in key order, and find the debits the row alone cannot cover: their pending credits are folded in
          SELECT array_agg(x.account_id) FILTER (WHERE x.balance - x.held + u.delta < 0) INTO need
            FROM (SELECT b.account_id, b.balance, b.held FROM ledger_balances b WHERE b.account_id = ANY(debited)
                   ORDER BY b.account_id FOR NO KEY UPDATE) x
            JOIN unnest(ids, deltas) AS u(account_id, delta) ON u.account_id = x.account_id;
          IF need IS NOT NULL THEN
            PERFORM ledger_fold(need);
          END IF;
          UPDATE ledger_balances b SET balance = b.balance + u.delta
            FROM unnest(ids, deltas, locking) AS u(account_id, delta, debit)
           WHERE u.debit AND b.account_id = u.account_id AND b.account_id = ANY(debited);
        END IF;
        IF pending > 0 THEN
          INSERT INTO ledger_pending_credits (account_id, allow_negative, amount)
          SELECT u.account_id, u.negative, u.delta FROM unnest(ids, deltas, negative, locking) AS u(account_id, delta, negative, debit)
           WHERE NOT u.debit AND u.delta <> 0;
        END IF;
        RETURN NULL;
      END $$`;
