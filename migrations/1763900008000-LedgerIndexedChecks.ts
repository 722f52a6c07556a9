import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ledger's trigger functions, rewritten so that each reaches its rows through an index whatever the
 * planner's statistics say. The first versions joined the transaction's postings to whole tables, which
 * let the planner scan every posting or every balance row (a hash join) when its statistics were stale
 * or its plan generic, so each write cost more as the ledger grew. Correlated scalar subqueries are
 * never turned into joins: each row is one primary-key lookup. What the functions check and do is
 * unchanged; `down` restores the first versions.
 */
export class LedgerIndexedChecks1763900008000 implements MigrationInterface {
  name = 'LedgerIndexedChecks1763900008000';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of ledgerFunctions(INDEXED)) await q.query(sql);
    // Their statements take no plan-changing values, so one plan per connection serves every call
    // (PostgreSQL otherwise keeps re-planning statements whose custom plan it estimates cheaper).
    for (const fn of GENERIC_PLANS) await q.query(`ALTER FUNCTION ${fn} SET plan_cache_mode = force_generic_plan`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const fn of GENERIC_PLANS) await q.query(`ALTER FUNCTION ${fn} RESET plan_cache_mode`);
    for (const sql of ledgerFunctions(JOINED)) await q.query(sql);
  }
}

const GENERIC_PLANS = [
  'ledger_check_balanced()',
  'ledger_postings_apply()',
  'ledger_pending_credits_check()',
  'ledger_hold_reserve()',
  'ledger_entries_mark()',
  'ledger_fold(bigint[])',
];

/** The parts that differ between the two versions. */
interface Variant {
  /** Each entry's legs per asset, as x (entry_id, asset, legs, total), for the entries of transaction NEW.xid. */
  entryLegs: string;
  /** How many of the new postings' entries were not written by this transaction. */
  foreignEntries: string;
  /** The new postings summed per account, with the account's allow_negative flag (NULL: no such account). */
  perAccount: string;
  /** Extra filter for the balance rows updated in place. */
  lockedRows: string;
  /** True when a pending credit names no account, or the wrong allow_negative flag. */
  badCredit: string;
  /** Extra filter for the balance rows a fold updates. */
  foldedRows: string;
}

const INDEXED: Variant = {
  entryLegs: `LEFT JOIN LATERAL (
            SELECT l.asset, count(*) AS legs, sum(l.amount) AS total
              FROM (SELECT p.amount, (SELECT a.asset FROM ledger_accounts a WHERE a.id = p.account_id) AS asset
                      FROM ledger_postings p WHERE p.entry_id = e.id) l
             GROUP BY l.asset) x ON true`,
  foreignEntries: `(SELECT count(*) FROM (SELECT DISTINCT p.entry_id FROM new_postings p) n
                 WHERE (SELECT e.xid FROM ledger_entries e WHERE e.id = n.entry_id) IS DISTINCT FROM pg_current_xact_id())`,
  perAccount: `SELECT p.account_id, sum(p.amount)::bigint AS delta,
                       (SELECT b.allow_negative FROM ledger_balances b WHERE b.account_id = p.account_id) AS allow_negative
                  FROM new_postings p GROUP BY p.account_id`,
  lockedRows: 'AND b.account_id = ANY(debited)',
  badCredit: `EXISTS (SELECT 1 FROM new_credits c
                    WHERE (SELECT b.allow_negative FROM ledger_balances b WHERE b.account_id = c.account_id) IS DISTINCT FROM c.allow_negative)`,
  foldedRows: 'AND b.account_id = ANY(accounts)',
};

const JOINED: Variant = {
  entryLegs: `LEFT JOIN (SELECT p.entry_id, a.asset, count(*) AS legs, sum(p.amount) AS total
                       FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
                      WHERE p.entry_id IN (SELECT id FROM ledger_entries WHERE xid = NEW.xid)
                      GROUP BY p.entry_id, a.asset) x ON x.entry_id = e.id`,
  foreignEntries: `(SELECT count(*) FROM (SELECT DISTINCT p.entry_id FROM new_postings p) n
                  LEFT JOIN ledger_entries e ON e.id = n.entry_id
                 WHERE e.id IS NULL OR e.xid <> pg_current_xact_id())`,
  perAccount: `SELECT s.account_id, s.delta, b.allow_negative
                  FROM (SELECT p.account_id, sum(p.amount)::bigint AS delta FROM new_postings p GROUP BY p.account_id) s
                  LEFT JOIN ledger_balances b ON b.account_id = s.account_id`,
  lockedRows: '',
  badCredit: `EXISTS (SELECT 1 FROM new_credits c LEFT JOIN ledger_balances b ON b.account_id = c.account_id
                    WHERE b.account_id IS NULL OR b.allow_negative <> c.allow_negative)`,
  foldedRows: '',
};

function ledgerFunctions(v: Variant): string[] {
  return [
    checkBalanced(perEntryLegs(v)),
    `CREATE OR REPLACE FUNCTION ledger_fold(accounts bigint[]) RETURNS void LANGUAGE sql AS $$
      WITH gone AS (
        DELETE FROM ledger_pending_credits c WHERE c.account_id = ANY(accounts) RETURNING c.account_id, c.amount
      ), folded AS (
        SELECT account_id, sum(amount)::bigint AS amount FROM gone GROUP BY account_id
      )
      UPDATE ledger_balances b SET balance = b.balance + f.amount FROM folded f WHERE b.account_id = f.account_id ${v.foldedRows}
    $$`,
    `CREATE OR REPLACE FUNCTION ledger_pending_credits_check() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF ${v.badCredit} THEN
          RAISE EXCEPTION 'pending credits must name an account and its allow_negative flag'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_pending_credits_account';
        END IF;
        RETURN NULL;
      END $$`,
    postingsApply(v, lockThenUpdate(v)),
  ];
}

/**
 * The postings trigger: checks the statement's postings, then moves balances. `applyDebits` applies
 * the net debits (and direct credits) of `debited` accounts to their rows.
 */
function postingsApply(v: Variant, applyDebits: string): string {
  return `CREATE OR REPLACE FUNCTION ledger_postings_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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
        SELECT ${v.foreignEntries},
               count(*) FILTER (WHERE d.allow_negative IS NULL),
               count(*) FILTER (WHERE NOT d.locking AND d.delta <> 0),
               array_agg(d.account_id ORDER BY d.account_id), array_agg(d.delta ORDER BY d.account_id),
               array_agg(d.allow_negative ORDER BY d.account_id), array_agg(d.locking ORDER BY d.account_id),
               array_agg(d.account_id ORDER BY d.account_id) FILTER (WHERE d.locking)
          INTO foreign_entries, missing, pending, ids, deltas, negative, locking, debited
          FROM (SELECT s.account_id, s.delta, s.allow_negative,
                       coalesce(NOT s.allow_negative AND (s.delta < 0 OR s.account_id = ANY(direct)), false) AS locking
                  FROM (${v.perAccount}) s) d;
        IF foreign_entries > 0 THEN
          RAISE EXCEPTION 'postings can only be added to an entry written by the same transaction'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_postings_entry';
        END IF;
        IF missing > 0 THEN
          RAISE EXCEPTION 'postings name an account that does not exist'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'ledger_postings_account';
        END IF;
${applyDebits}        IF pending > 0 THEN
          INSERT INTO ledger_pending_credits (account_id, allow_negative, amount)
          SELECT u.account_id, u.negative, u.delta FROM unnest(ids, deltas, negative, locking) AS u(account_id, delta, negative, debit)
           WHERE NOT u.debit AND u.delta <> 0;
        END IF;
        RETURN NULL;
      END $$`;
}

/** The first way of applying debits: lock every debited row (key order), fold where the row falls short, update. */
function lockThenUpdate(v: Variant): string {
  return `        IF debited IS NOT NULL THEN
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
           WHERE u.debit AND b.account_id = u.account_id ${v.lockedRows};
        END IF;
`;
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

/** The first query of the check: each entry's legs grouped per asset in its own subquery. */
function perEntryLegs(v: Variant): string {
  return `        SELECT e.id, coalesce(sum(x.legs), 0) AS legs, min(x.asset) FILTER (WHERE x.total <> 0) AS asset INTO bad
          FROM ledger_entries e
          ${v.entryLegs}
         WHERE e.xid = NEW.xid
         GROUP BY e.id
        HAVING coalesce(sum(x.legs), 0) < 2 OR bool_or(x.total <> 0)
         LIMIT 1;
`;
}
