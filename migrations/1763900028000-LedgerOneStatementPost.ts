import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A ledger post in one statement, and less work for the database in each. What is refused is unchanged.
 *
 * - ledger_post: what a post used to send as two statements (ledger_lock_find_read, then the insert of
 *   the entries and their postings) in one: it locks and reads as before and writes the entries when
 *   none of their references exists and every payer's funds cover all it is asked for; otherwise it
 *   writes nothing and the caller decides entry by entry from what it read (PostingEngine). The insert
 *   itself is ledger_insert_entries, the one statement that writes entries.
 * - Balanced entries: each entry queues a deferred constraint trigger of its own that checks it at
 *   commit (and that it carries the writing transaction's id), instead of a statement trigger marking
 *   the transaction in ledger_tx_checks (an insert and a delete with their index entries per
 *   transaction) and a deferred trigger on that mark.
 * - The postings trigger debits a single debited account with one UPDATE that locks its row and
 *   applies the debit when the row covers it (the usual entry); folding pending credits in first, and
 *   locking several rows in key order, stay for the rest.
 * - Pending credits written by the postings trigger take their allow_negative flag from the balance
 *   row the trigger has just read, so only rows inserted by other means (pg_trigger_depth() = 0) are
 *   checked against their account, each by a row trigger.
 */
export class LedgerOneStatementPost1763900028000 implements MigrationInterface {
  name = 'LedgerOneStatementPost1763900028000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER ledger_entries_mark ON ledger_entries`);
    await q.query(`DROP FUNCTION ledger_entries_mark()`);
    await q.query(`DROP TABLE ledger_tx_checks`);
    await q.query(ENTRY_CHECK);
    await q.query(`CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()`);

    await q.query(`DROP TRIGGER ledger_pending_credits_check ON ledger_pending_credits`);
    await q.query(PENDING_CREDIT_CHECK);
    await q.query(`CREATE TRIGGER ledger_pending_credits_check AFTER INSERT ON ledger_pending_credits
      FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION ledger_pending_credits_check()`);

    await q.query(postingsApplyOneUpdate());
    await q.query(INSERT_ENTRIES);
    await q.query(POST);
    // CREATE OR REPLACE drops a function's settings: each keeps its one plan per connection.
    for (const fn of ['ledger_check_balanced()', 'ledger_pending_credits_check()', 'ledger_postings_apply()'])
      await q.query(`ALTER FUNCTION ${fn} SET plan_cache_mode = force_generic_plan`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION ${POST_SIGNATURE}`);
    await q.query(`DROP FUNCTION ${INSERT_SIGNATURE}`);
    await q.query(POSTINGS_APPLY);

    await q.query(`DROP TRIGGER ledger_pending_credits_check ON ledger_pending_credits`);
    await q.query(`CREATE OR REPLACE FUNCTION ledger_pending_credits_check() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_credits c
                    WHERE (SELECT b.allow_negative FROM ledger_balances b WHERE b.account_id = c.account_id) IS DISTINCT FROM c.allow_negative) THEN
          RAISE EXCEPTION 'pending credits must name an account and its allow_negative flag'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_pending_credits_account';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_pending_credits_check AFTER INSERT ON ledger_pending_credits
      REFERENCING NEW TABLE AS new_credits FOR EACH STATEMENT EXECUTE FUNCTION ledger_pending_credits_check()`);

    await q.query(`DROP TRIGGER ledger_entries_balanced ON ledger_entries`);
    await q.query(`CREATE TABLE ledger_tx_checks (xid xid8 PRIMARY KEY)`);
    await q.query(`CREATE TRIGGER ledger_tx_checks_no_truncate BEFORE TRUNCATE ON ledger_tx_checks
      FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);
    await q.query(`CREATE FUNCTION ledger_entries_mark() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_entries WHERE xid <> pg_current_xact_id()) THEN
          RAISE EXCEPTION 'a ledger entry must carry the id of the transaction that writes it'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
        END IF;
        INSERT INTO ledger_tx_checks (xid) VALUES (pg_current_xact_id()) ON CONFLICT DO NOTHING;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_entries_mark AFTER INSERT ON ledger_entries
      REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_mark()`);
    await q.query(TRANSACTION_CHECK);
    await q.query(`CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_tx_checks
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()`);
    for (const fn of ['ledger_check_balanced()', 'ledger_pending_credits_check()', 'ledger_postings_apply()', 'ledger_entries_mark()'])
      await q.query(`ALTER FUNCTION ${fn} SET plan_cache_mode = force_generic_plan`);
  }
}

/** At commit (or at SET CONSTRAINTS ... IMMEDIATE), one entry: written by this transaction, 2+ postings, zero per asset. */
const ENTRY_CHECK = `CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        legs bigint;
        unbalanced text;
      BEGIN
        IF NEW.xid IS DISTINCT FROM pg_current_xact_id() THEN
          RAISE EXCEPTION 'a ledger entry must carry the id of the transaction that writes it'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
        END IF;
        SELECT coalesce(sum(x.legs), 0), min(x.asset) FILTER (WHERE x.total <> 0) INTO legs, unbalanced
          FROM (SELECT l.asset, count(*) AS legs, sum(l.amount) AS total
                  FROM (SELECT p.amount, (SELECT a.asset FROM ledger_accounts a WHERE a.id = p.account_id) AS asset
                          FROM ledger_postings p WHERE p.entry_id = NEW.id) l
                 GROUP BY l.asset) x;
        IF legs < 2 OR unbalanced IS NOT NULL THEN
          RAISE EXCEPTION 'ledger entry % does not balance (% posting(s); unbalanced in %)', NEW.id, legs, coalesce(unbalanced, '-')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
        END IF;
        RETURN NULL;
      END $$`;

const PENDING_CREDIT_CHECK = `CREATE OR REPLACE FUNCTION ledger_pending_credits_check() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT b.allow_negative FROM ledger_balances b WHERE b.account_id = NEW.account_id) IS DISTINCT FROM NEW.allow_negative THEN
          RAISE EXCEPTION 'pending credits must name an account and its allow_negative flag'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_pending_credits_account';
        END IF;
        RETURN NULL;
      END $$`;

/** The postings trigger as migration 1763900013000 left it (POSTINGS_APPLY), with one UPDATE for an entry that debits one account. */
function postingsApplyOneUpdate(): string {
  const [declared, debits] = ['        need bigint[];\n', '        IF debited IS NOT NULL THEN\n'];
  if (!POSTINGS_APPLY.includes(declared) || !POSTINGS_APPLY.includes(debits)) throw new Error('ledger_postings_apply is not as expected');
  return POSTINGS_APPLY.replace(declared, `${declared}        debit bigint;\n`).replace(
    debits,
    `        IF cardinality(debited) = 1 THEN
          -- one row: the update locks it and applies the debit if the row covers it (else it is folded first, below)
          debit := deltas[array_position(ids, debited[1])];
          UPDATE ledger_balances b SET balance = b.balance + debit WHERE b.account_id = debited[1] AND b.balance - b.held + debit >= 0;
          IF FOUND THEN
            debited := NULL;
          END IF;
        END IF;
${debits}`,
  );
}

const INSERT_SIGNATURE = `ledger_insert_entries(uuid[], text[], text[], text[], text[], timestamptz[], uuid[], uuid[], bigint[], bigint[])`;

/**
 * Writes entries (in the order given) and their postings; the postings trigger moves the balances.
 * An entry whose reference a concurrent transaction has just written is skipped with its postings.
 * Answers the ids of the entries written.
 */
const INSERT_ENTRIES = `CREATE FUNCTION ledger_insert_entries(ids uuid[], refs text[], kinds text[], metadata text[], hashes text[],
      created timestamptz[], leg_ids uuid[], leg_entries uuid[], leg_accounts bigint[], leg_amounts bigint[])
      RETURNS SETOF uuid LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
      BEGIN
        RETURN QUERY
        WITH e AS (
          INSERT INTO ledger_entries (id, reference, kind, metadata, content_hash, created_at)
          SELECT t.id, t.reference, t.kind, t.metadata::jsonb, t.content_hash, t.created_at
            FROM unnest(ids, refs, kinds, metadata, hashes, created) AS t(id, reference, kind, metadata, content_hash, created_at)
          ON CONFLICT (reference) DO NOTHING
          RETURNING ledger_entries.id
        ), p AS (
          INSERT INTO ledger_postings (id, entry_id, account_id, amount)
          SELECT l.id, l.entry_id, l.account_id, l.amount
            FROM unnest(leg_ids, leg_entries, leg_accounts, leg_amounts) WITH ORDINALITY AS l(id, entry_id, account_id, amount, ord)
            JOIN e ON e.id = l.entry_id
           ORDER BY l.ord
        )
        SELECT e.id FROM e;
      END $$`;

const POST_SIGNATURE = `ledger_post(bigint[], bigint[], uuid[], text[], text[], text[], text[], timestamptz[], uuid[], uuid[], bigint[], bigint[])`;

/**
 * ledger_lock_find_read's rows (`written` false), then, when no reference exists, every payer has a
 * balance row and its funds (read fresh) cover its need, the ids of the entries written (`written`).
 */
const POST = `CREATE FUNCTION ledger_post(payers bigint[], needs bigint[], ids uuid[], refs text[], kinds text[], metadata text[],
      hashes text[], created timestamptz[], leg_ids uuid[], leg_entries uuid[], leg_accounts bigint[], leg_amounts bigint[])
      RETURNS TABLE (id text, reference text, content_hash text, account_id text, available text, fresh boolean, written boolean)
      LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
      DECLARE
        r record;
        covered boolean := true;
        funded integer := 0;
        need bigint;
      BEGIN
        FOR r IN SELECT * FROM ledger_lock_find_read(false, refs, payers, needs) LOOP
          IF r.account_id IS NULL THEN
            covered := false;
          ELSE
            funded := funded + 1;
            need := needs[array_position(payers, r.account_id::bigint)];
            covered := covered AND r.fresh AND need IS NOT NULL AND r.available::bigint >= need;
          END IF;
          id := r.id;
          reference := r.reference;
          content_hash := r.content_hash;
          account_id := r.account_id;
          available := r.available;
          fresh := r.fresh;
          written := false;
          RETURN NEXT;
        END LOOP;
        IF covered AND funded = coalesce(cardinality(payers), 0) THEN
          RETURN QUERY SELECT w::text, NULL::text, NULL::text, NULL::text, NULL::text, NULL::boolean, true
            FROM ledger_insert_entries(ids, refs, kinds, metadata, hashes, created, leg_ids, leg_entries, leg_accounts, leg_amounts) w;
        END IF;
      END $$`;

/** The postings trigger as migration 1763900013000 left it. */
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

/** The per-transaction check as migration 1763900012000 left it (fired by the transaction's mark). */
const TRANSACTION_CHECK = `CREATE OR REPLACE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        bad record;
      BEGIN
        SELECT x.id, sum(x.legs) AS legs, min(x.asset) FILTER (WHERE x.total <> 0) AS asset INTO bad
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
        IF FOUND THEN
          RAISE EXCEPTION 'ledger entry % does not balance (% posting(s); unbalanced in %)', bad.id, bad.legs, coalesce(bad.asset, '-')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
        END IF;
        DELETE FROM ledger_tx_checks WHERE xid = NEW.xid;
        RETURN NULL;
      END $$`;
