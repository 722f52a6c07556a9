import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The token ledger. The invariants live here, so they hold whoever writes (the application or raw SQL):
 * - every entry balances per asset and has two or more postings (deferred constraint trigger);
 * - postings move balances (statement trigger), so a balance row is always the sum of its postings and
 *   the CHECK on the balance row refuses any overdraft or over-reservation;
 * - entries, postings, seals and accounts are append-only; holds only move pending -> closed, once;
 * - references are unique.
 */
export class Ledger1763900002000 implements MigrationInterface {
  name = 'Ledger1763900002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE ledger_accounts (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      -- a user's id (no foreign key: identity owns users); the nil UUID for system accounts
      owner_id uuid NOT NULL,
      asset text NOT NULL CHECK (asset IN ('CREDIT', 'PROMO', 'DEV_TOKEN')),
      name text NOT NULL,
      allow_negative boolean NOT NULL,
      created_at timestamptz NOT NULL,
      CONSTRAINT ledger_accounts_kind CHECK (
        (owner_id = '00000000-0000-0000-0000-000000000000' AND name IN ('issuance', 'platform_revenue', 'burn', 'escrow', 'chargeback_loss'))
        OR (owner_id <> '00000000-0000-0000-0000-000000000000' AND name IN ('wallet', 'earnings_pending', 'earnings', 'reseller_stock', 'bond', 'debt'))),
      CONSTRAINT ledger_accounts_negative CHECK (allow_negative = (name IN ('issuance', 'debt'))),
      CONSTRAINT ledger_accounts_key UNIQUE (owner_id, asset, name),
      CONSTRAINT ledger_accounts_id_negative UNIQUE (id, allow_negative)
    )`);

    // The balance row of an account: what debits (and holds) have settled, locked by whoever debits.
    await q.query(`CREATE TABLE ledger_balances (
      account_id bigint PRIMARY KEY,
      allow_negative boolean NOT NULL,
      balance bigint NOT NULL DEFAULT 0,
      held bigint NOT NULL DEFAULT 0,
      -- the flag is copied from the account (and must match it) so that a CHECK can read it
      FOREIGN KEY (account_id, allow_negative) REFERENCES ledger_accounts (id, allow_negative),
      CONSTRAINT ledger_balances_held_non_negative CHECK (held >= 0),
      CONSTRAINT ledger_balances_non_negative CHECK (allow_negative OR balance - held >= 0)
    ) WITH (fillfactor = 50)`);

    // Movements that cannot overdraw (credits; anything on issuance or debt) are appended here instead
    // of updating the balance row, so they take no lock: a hot receiver never queues its payers, and a
    // transfer never waits on its receiver (no lock cycles between opposite transfers). An account's
    // balance is its row plus these; they are folded into the row under its lock when it is debited,
    // reserved from, or compacted by the periodic job.
    await q.query(`CREATE TABLE ledger_pending_credits (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      account_id bigint NOT NULL,
      allow_negative boolean NOT NULL,
      amount bigint NOT NULL,
      -- only a movement that cannot overdraw may bypass the balance row and its CHECK
      -- (the flag is checked against the balance row by a statement trigger)
      CONSTRAINT ledger_pending_credits_credit CHECK (amount > 0 OR (allow_negative AND amount <> 0))
    )`);
    await q.query(`CREATE INDEX ledger_pending_credits_account ON ledger_pending_credits (account_id) INCLUDE (amount)`);

    await q.query(`CREATE TABLE ledger_entries (
      id uuid PRIMARY KEY DEFAULT uuidv7(),
      reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 300),
      kind text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
      metadata jsonb NOT NULL DEFAULT '{}',
      -- hash of (kind, postings, metadata): a replay of the reference with other content is a conflict
      content_hash text NOT NULL,
      -- business-clock time of the entry (point-in-time balances read it)
      created_at timestamptz NOT NULL,
      -- the writing transaction: the sealer chains entries in this order once the transaction is over
      xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
      CONSTRAINT ledger_entries_reference UNIQUE (reference)
    )`);
    await q.query(`CREATE INDEX ledger_entries_kind ON ledger_entries (kind, created_at)`);
    await q.query(`CREATE INDEX ledger_entries_commit_order ON ledger_entries (xid, id)`);

    // entry_id and account_id are checked set-wise by the postings trigger (the entry must be one of
    // this transaction, the account must have its balance row) instead of per-row foreign keys: it is
    // a stronger check, and neither entries nor balance rows can ever be deleted.
    await q.query(`CREATE TABLE ledger_postings (
      entry_id uuid NOT NULL,
      id uuid NOT NULL DEFAULT uuidv7(),
      seq bigint GENERATED ALWAYS AS IDENTITY,
      account_id bigint NOT NULL,
      amount bigint NOT NULL CHECK (amount <> 0),
      PRIMARY KEY (entry_id, id)
    )`);
    await q.query(`CREATE INDEX ledger_postings_account ON ledger_postings (account_id, seq) INCLUDE (amount)`);

    await q.query(`CREATE TABLE ledger_holds (
      id uuid PRIMARY KEY DEFAULT uuidv7(),
      reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 300),
      kind text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
      from_account_id bigint NOT NULL REFERENCES ledger_accounts (id),
      to_account_id bigint NOT NULL REFERENCES ledger_accounts (id),
      amount bigint NOT NULL CHECK (amount > 0),
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'captured', 'voided', 'expired')),
      captured bigint,
      capture_entry_id uuid REFERENCES ledger_entries (id) DEFERRABLE INITIALLY DEFERRED,
      metadata jsonb NOT NULL DEFAULT '{}',
      content_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      closed_at timestamptz,
      CONSTRAINT ledger_holds_reference UNIQUE (reference),
      CONSTRAINT ledger_holds_distinct_accounts CHECK (from_account_id <> to_account_id),
      CONSTRAINT ledger_holds_expiry CHECK (expires_at > created_at),
      CONSTRAINT ledger_holds_closed CHECK ((status = 'pending') = (closed_at IS NULL)),
      CONSTRAINT ledger_holds_capture CHECK (
        (status = 'captured') = (capture_entry_id IS NOT NULL)
        AND (status = 'captured') = (captured IS NOT NULL)
        AND (captured IS NULL OR captured BETWEEN 1 AND amount))
    )`);
    await q.query(`CREATE INDEX ledger_holds_pending_expiry ON ledger_holds (expires_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX ledger_holds_pending_from ON ledger_holds (from_account_id) WHERE status = 'pending'`);

    await q.query(`CREATE TABLE ledger_seals (
      seq bigint PRIMARY KEY CHECK (seq >= 1),
      entry_id uuid NOT NULL REFERENCES ledger_entries (id),
      entry_xid xid8 NOT NULL,
      prev_hash bytea NOT NULL,
      hash bytea NOT NULL,
      sealed_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT ledger_seals_entry UNIQUE (entry_id)
    )`);

    await this.triggers(q);
  }

  private async triggers(q: QueryRunner): Promise<void> {
    for (const table of ['ledger_accounts', 'ledger_entries', 'ledger_postings', 'ledger_seals']) {
      await q.query(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
      await q.query(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
        FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);
    }
    // Balance rows and pending credits change, but are never deleted wholesale (they carry balances).
    await q.query(`CREATE TRIGGER ledger_balances_no_delete BEFORE DELETE ON ledger_balances
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
    await q.query(`CREATE TRIGGER ledger_balances_no_truncate BEFORE TRUNCATE ON ledger_balances
      FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);
    await q.query(`CREATE TRIGGER ledger_pending_credits_no_truncate BEFORE TRUNCATE ON ledger_pending_credits
      FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);

    await q.query(`CREATE FUNCTION ledger_pending_credits_check() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM new_credits c LEFT JOIN ledger_balances b ON b.account_id = c.account_id
                    WHERE b.account_id IS NULL OR b.allow_negative <> c.allow_negative) THEN
          RAISE EXCEPTION 'pending credits must name an account and its allow_negative flag'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_pending_credits_account';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_pending_credits_check AFTER INSERT ON ledger_pending_credits
      REFERENCING NEW TABLE AS new_credits FOR EACH STATEMENT EXECUTE FUNCTION ledger_pending_credits_check()`);

    // Moves the pending credits of accounts into their balance rows (the caller holds the rows' locks).
    await q.query(`CREATE FUNCTION ledger_fold(accounts bigint[]) RETURNS void LANGUAGE sql AS $$
      WITH gone AS (
        DELETE FROM ledger_pending_credits c WHERE c.account_id = ANY(accounts) RETURNING c.account_id, c.amount
      ), folded AS (
        SELECT account_id, sum(amount)::bigint AS amount FROM gone GROUP BY account_id
      )
      UPDATE ledger_balances b SET balance = b.balance + f.amount FROM folded f WHERE b.account_id = f.account_id
    $$`);

    // At commit, every entry the transaction wrote has 2+ postings that sum to zero per asset. Writing
    // entries marks the transaction (a statement trigger, which also refuses an entry claiming another
    // transaction); the mark's deferred constraint trigger checks all of that transaction's entries in
    // one query, then removes the mark, so entries written after an early check (SET CONSTRAINTS ...
    // IMMEDIATE) mark the transaction again and are checked too. Deleting the mark by hand skips
    // nothing: PostgreSQL fires a queued AFTER trigger event even when its row was deleted since.
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
    await q.query(`CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        bad record;
      BEGIN
        SELECT e.id, coalesce(sum(x.legs), 0) AS legs, min(x.asset) FILTER (WHERE x.total <> 0) AS asset INTO bad
          FROM ledger_entries e
          LEFT JOIN (SELECT p.entry_id, a.asset, count(*) AS legs, sum(p.amount) AS total
                       FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
                      WHERE p.entry_id IN (SELECT id FROM ledger_entries WHERE xid = NEW.xid)
                      GROUP BY p.entry_id, a.asset) x ON x.entry_id = e.id
         WHERE e.xid = NEW.xid
         GROUP BY e.id
        HAVING coalesce(sum(x.legs), 0) < 2 OR bool_or(x.total <> 0)
         LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'ledger entry % does not balance (% posting(s); unbalanced in %)', bad.id, bad.legs, coalesce(bad.asset, '-')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_entry_balanced';
        END IF;
        DELETE FROM ledger_tx_checks WHERE xid = NEW.xid;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_tx_checks
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced()`);

    // Postings belong to an entry of the same transaction (so a committed entry can never gain a leg)
    // and move balances, summed per account: a net debit of an account that must not go negative locks
    // its row (in key order), folds its pending credits in and applies the debit, where the CHECK
    // guards it; every other movement is appended to the pending credits, taking no lock at all, unless
    // the writer says (setting ledger.direct_credits) that it holds the row's lock already. The setting
    // only chooses between two correct ways of crediting; it cannot bypass any check.
    await q.query(`CREATE FUNCTION ledger_postings_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
                  LEFT JOIN ledger_entries e ON e.id = n.entry_id
                 WHERE e.id IS NULL OR e.xid <> pg_current_xact_id()),
               count(*) FILTER (WHERE d.allow_negative IS NULL),
               count(*) FILTER (WHERE NOT d.locking AND d.delta <> 0),
               array_agg(d.account_id ORDER BY d.account_id), array_agg(d.delta ORDER BY d.account_id),
               array_agg(d.allow_negative ORDER BY d.account_id), array_agg(d.locking ORDER BY d.account_id),
               array_agg(d.account_id ORDER BY d.account_id) FILTER (WHERE d.locking)
          INTO foreign_entries, missing, pending, ids, deltas, negative, locking, debited
          FROM (SELECT s.account_id, s.delta, b.allow_negative,
                       coalesce(NOT b.allow_negative AND (s.delta < 0 OR s.account_id = ANY(direct)), false) AS locking
                  FROM (SELECT p.account_id, sum(p.amount)::bigint AS delta FROM new_postings p GROUP BY p.account_id) s
                  LEFT JOIN ledger_balances b ON b.account_id = s.account_id) d;
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
           WHERE u.debit AND b.account_id = u.account_id;
        END IF;
        IF pending > 0 THEN
          INSERT INTO ledger_pending_credits (account_id, allow_negative, amount)
          SELECT u.account_id, u.negative, u.delta FROM unnest(ids, deltas, negative, locking) AS u(account_id, delta, negative, debit)
           WHERE NOT u.debit AND u.delta <> 0;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_postings_apply AFTER INSERT ON ledger_postings
      REFERENCING NEW TABLE AS new_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_apply()`);

    // Holds reserve funds on the source account while pending; only pending -> closed is allowed.
    await q.query(`CREATE FUNCTION ledger_hold_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status <> 'pending' OR NEW.status = 'pending'
           OR (NEW.id, NEW.reference, NEW.kind, NEW.from_account_id, NEW.to_account_id, NEW.amount, NEW.metadata,
               NEW.content_hash, NEW.created_at, NEW.expires_at)
              IS DISTINCT FROM
              (OLD.id, OLD.reference, OLD.kind, OLD.from_account_id, OLD.to_account_id, OLD.amount, OLD.metadata,
               OLD.content_hash, OLD.created_at, OLD.expires_at) THEN
          RAISE EXCEPTION 'ledger hold % can only go from pending to a final state, once', OLD.id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_holds_transition';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_holds_guard BEFORE UPDATE ON ledger_holds
      FOR EACH ROW EXECUTE FUNCTION ledger_hold_guard()`);
    await q.query(`CREATE TRIGGER ledger_holds_no_delete BEFORE DELETE ON ledger_holds
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
    await q.query(`CREATE TRIGGER ledger_holds_no_truncate BEFORE TRUNCATE ON ledger_holds
      FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);
    await q.query(`CREATE FUNCTION ledger_hold_reserve() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        delta bigint;
        room bigint;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF NEW.status <> 'pending' THEN
            RAISE EXCEPTION 'a ledger hold starts pending' USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_holds_transition';
          END IF;
          delta := NEW.amount;
          -- reserve against everything the account has: fold its pending credits in if the row falls short
          SELECT balance - held INTO room FROM ledger_balances WHERE account_id = NEW.from_account_id FOR NO KEY UPDATE;
          IF room < delta THEN
            PERFORM ledger_fold(ARRAY[NEW.from_account_id]);
          END IF;
        ELSE
          delta := -OLD.amount;
        END IF;
        UPDATE ledger_balances SET held = held + delta WHERE account_id = NEW.from_account_id;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'ledger account % has no balance row', NEW.from_account_id USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER ledger_holds_reserve AFTER INSERT OR UPDATE ON ledger_holds
      FOR EACH ROW EXECUTE FUNCTION ledger_hold_reserve()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DROP TABLE ledger_tx_checks, ledger_seals, ledger_holds, ledger_postings, ledger_entries, ledger_pending_credits, ledger_balances, ledger_accounts`,
    );
    await q.query(
      `DROP FUNCTION ledger_check_balanced(), ledger_entries_mark(), ledger_postings_apply(), ledger_hold_guard(), ledger_hold_reserve(), ledger_fold(bigint[]), ledger_pending_credits_check()`,
    );
  }
}
