import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppError } from '../common/errors';
import { Outcome as Outcome_ } from '../common/outcome';
import { queryRows } from '../database/sql';
import { PreparedEntry, ResolvedRef } from './entry-input';
import { AccountInfo, LedgerAccounts } from './ledger-accounts';
import { LedgerErrors, mapLedgerDbError } from './ledger.errors';
import { LockedFunds, PostedEntry } from './ledger.types';

type Outcome = Outcome_<PostedEntry>;

/** Used by capture: its hold is released in the same unit of work, just before the entry is written. */
export interface ApplyHooks {
  /**
   * The entry spends funds reserved for it (a hold the caller has locked and releases in
   * `beforeWrite`): no funds check, and no reference lookup first (its reference is new unless a
   * concurrent capture won, which the insert detects). The balance row's CHECK still guards it.
   */
  funded?: boolean;
  beforeWrite?(em: EntityManager): Promise<void>;
}

export interface ApplyOptions extends ApplyHooks {
  /**
   * Batch mode: the unit of work is the batcher's own transaction, so it may also lock the rows of
   * ordinary receivers (without waiting: SKIP LOCKED) and credit them in place, which is cheaper than
   * a pending credit. A caller's transaction never takes a receiver's lock.
   */
  directCredits?: boolean;
  /**
   * Funds read under locks this transaction already holds (see LockedFunds). When it covers every
   * account the entries debit, nothing is locked or read again, and a reference that exists already
   * is found by the insert (ON CONFLICT) instead of a lookup first: the outcome is the same.
   */
  locked?: LockedFunds;
  /**
   * The unit of work ends with this call: its insert is marked as the transaction's last statement, so
   * a batch transaction commits right behind it (QueryOptions.last). Only reads of committed entries
   * (a reference a concurrent transaction won) may follow it.
   */
  last?: boolean;
}

/** An account credited by this many entries of one batch is hot: it keeps taking pending credits. */
const HOT_IN_BATCH = 3;

export interface ApplyResult {
  outcomes: Outcome[];
  /** Accounts read or created by this unit of work (the caller may cache them once it has committed). */
  accounts: AccountInfo[];
}

/**
 * Writes entries: the one code path for a single `post` in a caller's transaction and for a batch of
 * many in the batcher's. Only accounts that are debited and must not go negative are locked (in key
 * order); credits take no lock (see the migration). Bad entries never reach the database: funds and
 * reference conflicts are decided first, so a caller's transaction is never aborted by a refused
 * entry, and one refused entry in a batch does not affect the others.
 */
@Injectable()
export class PostingEngine {
  constructor(private readonly accounts: LedgerAccounts) {}

  async apply(em: EntityManager, entries: PreparedEntry[], hooks: ApplyOptions = {}): Promise<ApplyResult> {
    const outcomes: (Outcome | undefined)[] = new Array(entries.length);
    const leaders = new Map<string, number>();
    entries.forEach((e, i) => {
      if (!leaders.has(e.reference)) leaders.set(e.reference, i);
    });
    const { refs, debited, credits } = touched(entries, [...leaders.values()]);
    const accounts = await this.accounts.find(em, [...refs.values()]);
    const idOf = (keys: Iterable<string>) => [...keys].map((k) => accounts.get(k)?.id).filter((id): id is string => id !== undefined);
    // Ordinary receivers of a batch (not hot ones) may be credited in place, if their row is free.
    const receivers = hooks.directCredits ? idOf([...credits].filter(([k, n]) => n < HOT_IN_BATCH && !debited.has(k)).map(([k]) => k)) : [];

    let pending = [...leaders.values()];
    const locked = hooks.locked && [...debited].every((k) => hooks.locked!.has(k)) ? hooks.locked : undefined;
    if (locked || !hooks.funded) {
      let available: Map<string, bigint>;
      if (locked) available = new Map([...debited].map((k) => [k, locked.get(k)!]));
      else {
        const payers = idOf(debited);
        const read = await this.lockFindAndRead(
          em,
          'ledger_entries',
          pending.map((i) => entries[i].reference),
          payers,
          { receivers, needs: debitsOf(entries, pending, accounts) },
        );
        this.resolve(entries, pending, read.existing, outcomes);
        pending = pending.filter((i) => !outcomes[i]);
        const funds = read.funds;
        available = new Map([...debited].map((k) => [k, funds.get(accounts.get(k)?.id ?? '') ?? 0n]));
      }
      for (const i of pending) {
        const refused = spend(entries[i], available);
        if (refused) outcomes[i] = { error: refused };
      }
      pending = pending.filter((i) => !outcomes[i]);
    }
    if (pending.length) await this.write(em, entries, pending, accounts, outcomes, hooks);

    entries.forEach((e, i) => {
      if (outcomes[i]) return;
      const first = leaders.get(e.reference)!;
      const leader = outcomes[first]!;
      if ('error' in leader) outcomes[i] = leader;
      else if (entries[first].contentHash === e.contentHash) outcomes[i] = { ok: { entryId: leader.ok.entryId, replayed: true } };
      else outcomes[i] = { error: LedgerErrors.referenceConflict(e.reference) };
    });
    return { outcomes: outcomes as Outcome[], accounts: [...accounts.values()] };
  }

  /** Creates the accounts the accepted entries need, then writes those entries. */
  private async write(
    em: EntityManager,
    entries: PreparedEntry[],
    accepted: number[],
    accounts: Map<string, AccountInfo>,
    outcomes: (Outcome | undefined)[],
    hooks: ApplyHooks & Pick<ApplyOptions, 'last'>,
  ): Promise<void> {
    const unknown = new Map<string, ResolvedRef>();
    for (const i of accepted)
      for (const leg of entries[i].legs) if (!accounts.has(leg.account.key)) unknown.set(leg.account.key, leg.account);
    if (unknown.size) for (const [k, v] of await this.accounts.ensure(em, [...unknown.values()])) accounts.set(k, v);
    try {
      if (hooks.beforeWrite) await hooks.beforeWrite(em);
      const inserted = await this.insert(
        em,
        accepted.map((i) => entries[i]),
        accounts,
        hooks.last,
      );
      for (const i of accepted) if (inserted.has(entries[i].id)) outcomes[i] = { ok: { entryId: entries[i].id, replayed: false } };
      // Not inserted: a concurrent transaction wrote the reference between our lookup and our insert.
      const raced = accepted.filter((i) => !inserted.has(entries[i].id));
      if (raced.length)
        this.resolve(
          entries,
          raced,
          await this.lookupAndLock(
            em,
            raced.map((i) => entries[i].reference),
            [],
          ),
          outcomes,
        );
    } catch (err) {
      throw mapLedgerDbError(err);
    }
  }

  /** Locks balance rows (in key order) and answers what each account can spend (see lockFindAndRead). */
  async lockAndRead(em: EntityManager, accountIds: string[]): Promise<Map<string, bigint>> {
    if (!accountIds.length) return new Map();
    return (await this.lockFindAndRead(em, 'ledger_entries', [], accountIds)).funds;
  }

  /** Locks balance rows (in key order) until the transaction ends. */
  async lock(em: EntityManager, accountIds: string[]): Promise<void> {
    if (accountIds.length) await this.lookupAndLock(em, [], accountIds);
  }

  /** One statement: the entries that already carry these references, and the payers' rows locked in key order. */
  private lookupAndLock(em: EntityManager, references: string[], payers: string[]): Promise<Map<string, { id: string; hash: string }>> {
    return this.lockAndFind(em, 'ledger_entries', references, payers);
  }

  /**
   * One statement: locks balance rows in key order, then finds the rows of `table` (entries or holds)
   * that already carry these references.
   */
  async lockAndFind(
    em: EntityManager,
    table: 'ledger_entries' | 'ledger_holds',
    references: string[],
    accountIds: string[],
  ): Promise<Map<string, { id: string; hash: string }>> {
    const rows = await queryRows<{ id: string | null; reference: string | null; content_hash: string | null }>(
      em,
      `WITH locked AS (
         SELECT b.account_id FROM ledger_balances b WHERE b.account_id = ANY($2::bigint[]) ORDER BY b.account_id FOR NO KEY UPDATE
       ), n AS (SELECT count(*) FROM locked)
       SELECT x.id, x.reference, x.content_hash FROM n
         LEFT JOIN LATERAL (SELECT t.id, t.reference, t.content_hash FROM ${table} t WHERE t.reference = ANY($1::text[])) x ON true`,
      [references, accountIds],
      { prepare: true },
    );
    return existingRows(rows);
  }

  /**
   * Usually one statement: locks the payers' balance rows in key order, finds the rows of `table` that
   * already carry these references, locks the free rows of a batch's ordinary receivers (SKIP LOCKED:
   * never waits, so never joins a lock cycle), which the postings trigger is told
   * (ledger.direct_credits) to credit in place rather than through pending credits, and reads what each
   * payer can spend: its row (balance - held) plus its pending credits.
   *
   * `needs` (per payer id: the most this unit of work may take from it) spares that read of pending
   * credits where the row alone covers the need: the payer's funds are then answered as its row, which
   * is less than or equal to what it has but enough for every decision the caller will make. A payer
   * without a need is always read in full.
   *
   * The pending credits are read in the statement's snapshot, which predates its lock waits. A payer's
   * row that changed after that snapshot (a debit, hold or fold we waited for; a fold also deletes
   * pending credits) is seen by its new version: when such a payer's pending credits were read, the
   * funds are read again by a second statement, whose snapshot sees everything committed before the
   * locks were ours (a row that covers the need is read from the locked version itself, so it stands).
   * A credit committed while we waited behind a lock that changed nothing is not counted (a refusal it
   * would have prevented, never an overdraft).
   *
   * The statement is the database function ledger_lock_find_read (migration 1763900010000), so that
   * its plan is made once per connection rather than on every call.
   */
  async lockFindAndRead(
    em: EntityManager,
    table: 'ledger_entries' | 'ledger_holds',
    references: string[],
    payers: string[],
    opts: { receivers?: string[]; needs?: ReadonlyMap<string, bigint> } = {},
  ): Promise<{ existing: Map<string, { id: string; hash: string }>; funds: Map<string, bigint> }> {
    const rows = await queryRows<{
      id: string | null;
      reference: string | null;
      content_hash: string | null;
      account_id: string | null;
      available: string | null;
      fresh: boolean | null;
    }>(
      em,
      'SELECT * FROM ledger_lock_find_read($1, $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])',
      [table === 'ledger_holds', references, payers, pgList(payers.map((id) => needText(opts.needs?.get(id)))), opts.receivers ?? []],
      { prepare: true },
    );
    const funded = rows.filter((r) => r.account_id !== null);
    const funds = funded.every((r) => r.fresh)
      ? new Map(funded.map((r) => [r.account_id!, BigInt(r.available!)]))
      : await this.readFunds(em, payers);
    return { existing: existingRows(rows), funds };
  }

  /** What each account can spend: its row (balance - held) plus its pending credits, read in a fresh snapshot. */
  async readFunds(em: EntityManager, accountIds: string[]): Promise<Map<string, bigint>> {
    if (!accountIds.length) return new Map();
    const rows = await queryRows<{ account_id: string; available: string }>(
      em,
      `SELECT b.account_id::text AS account_id,
              (b.balance - b.held + coalesce((SELECT sum(c.amount) FROM ledger_pending_credits c WHERE c.account_id = b.account_id), 0))::text AS available
         FROM ledger_balances b WHERE b.account_id = ANY($1::bigint[])`,
      [accountIds],
      { prepare: true },
    );
    return new Map(rows.map((r) => [r.account_id, BigInt(r.available)]));
  }

  /** Entries whose reference exists already: the same content is a replay, other content a conflict. */
  private resolve(
    entries: PreparedEntry[],
    indexes: number[],
    existing: Map<string, { id: string; hash: string }>,
    outcomes: (Outcome | undefined)[],
  ): void {
    for (const i of indexes) {
      const row = existing.get(entries[i].reference);
      if (!row) continue;
      outcomes[i] =
        row.hash === entries[i].contentHash
          ? { ok: { entryId: row.id, replayed: true } }
          : { error: LedgerErrors.referenceConflict(entries[i].reference) };
    }
  }

  /**
   * Writes entries and their postings in one statement; the postings trigger moves the balances. An
   * entry whose reference a concurrent transaction has just written is skipped with its postings.
   */
  private async insert(
    em: EntityManager,
    entries: PreparedEntry[],
    accounts: Map<string, AccountInfo>,
    last = false,
  ): Promise<Set<string>> {
    // A fixed order for the reference index entries too, against lock cycles between batches.
    const sorted = [...entries].sort((a, b) => (a.reference < b.reference ? -1 : a.reference > b.reference ? 1 : 0));
    const legId: string[] = [];
    const legEntry: string[] = [];
    const legAccount: string[] = [];
    const legAmount: string[] = [];
    for (const e of sorted) {
      for (const leg of e.legs) {
        legId.push(leg.id);
        legEntry.push(e.id);
        legAccount.push(accounts.get(leg.account.key)!.id);
        legAmount.push(leg.amount.toString());
      }
    }
    const rows = await queryRows<{ id: string }>(
      em,
      `WITH e AS (
         INSERT INTO ledger_entries (id, reference, kind, metadata, content_hash, created_at)
         SELECT id, reference, kind, metadata::jsonb, content_hash, created_at
           FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
                AS t(id, reference, kind, metadata, content_hash, created_at)
         ON CONFLICT (reference) DO NOTHING
         RETURNING id
       ), p AS (
         INSERT INTO ledger_postings (id, entry_id, account_id, amount)
         SELECT l.id, l.entry_id, l.account_id, l.amount
           FROM unnest($7::uuid[], $8::uuid[], $9::bigint[], $10::bigint[]) WITH ORDINALITY AS l(id, entry_id, account_id, amount, ord)
           JOIN e ON e.id = l.entry_id
          ORDER BY l.ord
       )
       SELECT id FROM e`,
      [
        pgList(sorted.map((e) => e.id)),
        sorted.map((e) => e.reference),
        sorted.map((e) => e.kind),
        sorted.map((e) => e.metadataJson),
        pgList(sorted.map((e) => e.contentHash)),
        sorted.map((e) => e.createdAt),
        pgList(legId),
        pgList(legEntry),
        pgList(legAccount),
        pgList(legAmount),
      ],
      { prepare: true, last },
    );
    return new Set(rows.map((r) => r.id));
  }
}

function existingRows(rows: { id: string | null; reference: string | null; content_hash: string | null }[]) {
  return new Map(rows.filter((r) => r.reference !== null).map((r) => [r.reference!, { id: r.id!, hash: r.content_hash! }]));
}

/** The accounts the entries touch; those debited that must not go negative; how often each other one is credited. */
function touched(entries: PreparedEntry[], indexes: number[]) {
  const refs = new Map<string, ResolvedRef>();
  const debited = new Set<string>();
  const credits = new Map<string, number>();
  for (const i of indexes) {
    for (const leg of entries[i].legs) {
      refs.set(leg.account.key, leg.account);
      if (leg.account.allowNegative) continue;
      if (leg.amount < 0n) debited.add(leg.account.key);
      else credits.set(leg.account.key, (credits.get(leg.account.key) ?? 0) + 1);
    }
  }
  return { refs, debited, credits };
}

/** A need as a bigint literal; none, or one beyond bigint (a batch of huge debits), asks for a full read. */
function needText(need: bigint | undefined): string {
  return need === undefined || need > PG_BIGINT_MAX ? 'NULL' : need.toString();
}

const PG_BIGINT_MAX = 2n ** 63n - 1n;

/** Per debited account id: the sum of what the entries take from it (the most they can need). */
function debitsOf(entries: PreparedEntry[], indexes: number[], accounts: Map<string, AccountInfo>): Map<string, bigint> {
  const needs = new Map<string, bigint>();
  for (const i of indexes) {
    for (const leg of entries[i].legs) {
      const id = accounts.get(leg.account.key)?.id;
      if (leg.amount < 0n && id !== undefined) needs.set(id, (needs.get(id) ?? 0n) - leg.amount);
    }
  }
  return needs;
}

/**
 * A PostgreSQL array literal of values that never need quoting (ids, digits, hex): the driver would
 * otherwise escape every element one by one, which shows in a batch of hundreds.
 */
function pgList(values: string[]): string {
  return `{${values.join(',')}}`;
}

/** Applies an entry to the running availability of the debited accounts, or says why it cannot be written. */
function spend(entry: PreparedEntry, available: Map<string, bigint>): AppError | undefined {
  const net = new Map<string, bigint>();
  for (const leg of entry.legs) if (available.has(leg.account.key)) net.set(leg.account.key, (net.get(leg.account.key) ?? 0n) + leg.amount);
  for (const [key, delta] of net) {
    if (available.get(key)! + delta < 0n) {
      const leg = entry.legs.find((l) => l.account.key === key)!;
      return LedgerErrors.insufficientFunds(leg.account.name, leg.account.asset);
    }
  }
  for (const [key, delta] of net) available.set(key, available.get(key)! + delta);
  return undefined;
}
