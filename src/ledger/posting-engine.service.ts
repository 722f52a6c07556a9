import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AppError } from '../common/errors';
import { sortedBy } from '../common/compare';
import { BusinessMetrics } from '../common/metrics';
import { Outcome } from '../common/outcome';
import { afterCommit } from '../database/after-commit';
import { PreparedEntry, ResolvedRef } from './entry-input';
import { AccountInfo, LedgerAccountsService } from './ledger-accounts.service';
import { LedgerBalancesRepository } from './ledger-balances.repository';
import { ExistingRef, LedgerEntriesRepository, LockFindReadRow, ReferenceTable, toExisting } from './ledger-entries.repository';
import { LedgerErrors, mapLedgerDbError } from './ledger.errors';
import { LockedFunds, PostedEntry } from './ledger.types';

export interface ApplyOptions {
  /**
   * Used by capture: the entry spends funds reserved for it (a hold the caller has locked and
   * releases in `beforeWrite`): no funds check, and no reference lookup first (its reference is new
   * unless a concurrent capture won, which the insert detects). The balance row's CHECK still guards it.
   */
  funded?: boolean;
  /** Runs in the same unit of work just before the entries are written (capture closes its hold here). */
  beforeWrite?(em: EntityManager): Promise<void>;
  /**
   * Funds read under locks this transaction already holds (see LockedFunds). When it covers every
   * account the entries debit, nothing is locked or read again, and a reference that exists already
   * is found by the insert (ON CONFLICT) instead of a lookup first: the outcome is the same.
   */
  locked?: LockedFunds;
}

/** What the payers can spend (by account id) and the rows that already carry the references asked for. */
export interface LockedRead {
  existing: Map<string, ExistingRef>;
  funds: Map<string, bigint>;
}

/**
 * Writes entries in the caller's transaction: the one code path for `post` and `postMany`. Only
 * accounts that are debited and must not go negative are locked (in key order); credits take no lock
 * (see the migrations). Bad entries never reach the database: funds and reference conflicts are
 * decided first, so the caller's transaction is never aborted by a refused entry, and one refused
 * entry of several does not affect the others. Usually a post is one statement (ledger_post: lock,
 * find, read and write); only when it finds a reference or funds that fall short are the entries
 * decided one by one here (docs/ledger.md).
 */
@Injectable()
export class PostingEngineService {
  constructor(
    private readonly accounts: LedgerAccountsService,
    private readonly entries: LedgerEntriesRepository,
    private readonly balances: LedgerBalancesRepository,
  ) {}

  async apply(em: EntityManager, entries: PreparedEntry[], opts: ApplyOptions = {}): Promise<Outcome<PostedEntry>[]> {
    const outcomes: (Outcome<PostedEntry> | undefined)[] = new Array(entries.length);
    const leaders = new Map<string, number>();
    entries.forEach((e, i) => {
      if (!leaders.has(e.reference)) leaders.set(e.reference, i);
    });
    const { refs, debited } = touched(entries, [...leaders.values()]);
    const accounts = await this.accounts.find(em, [...refs.values()]);

    let pending = [...leaders.values()];
    const locked = opts.locked && [...debited].every((k) => opts.locked!.has(k)) ? opts.locked : undefined;
    const payers = [...debited].map((k) => accounts.get(k)?.id).filter((id): id is string => id !== undefined);
    let read: LockedRead | undefined;
    if (!locked && !opts.funded && !opts.beforeWrite && accounts.size === refs.size) {
      // Every account exists: one statement locks, reads and, when nothing stands in the way, writes.
      const tried = await this.tryWrite(em, entries, pending, accounts, outcomes, payers);
      if (tried.written) pending = [];
      else read = tried.read;
    }
    if (pending.length && (locked || !opts.funded)) {
      let available: Map<string, bigint>;
      if (locked) available = new Map([...debited].map((k) => [k, locked.get(k)!]));
      else {
        read ??= await this.lockFindAndReadFunds(
          em,
          'entries',
          pending.map((i) => entries[i].reference),
          payers,
          debitsOf(entries, pending, accounts),
        );
        resolve(entries, pending, read.existing, outcomes);
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
    if (pending.length) await this.write(em, entries, pending, accounts, outcomes, opts);

    entries.forEach((e, i) => {
      if (outcomes[i]) return;
      const first = leaders.get(e.reference)!;
      const leader = outcomes[first]!;
      if ('error' in leader) outcomes[i] = leader;
      else if (entries[first].contentHash === e.contentHash) outcomes[i] = { ok: { entryId: leader.ok.entryId, replayed: true } };
      else outcomes[i] = { error: LedgerErrors.referenceConflict(e.reference) };
    });
    const written = entries.filter((_, i) => {
      const o = outcomes[i]!;
      return 'ok' in o && !o.ok.replayed;
    });
    if (written.length)
      afterCommit(em, () => {
        for (const e of written) BusinessMetrics.ledgerEntries.inc({ kind: e.kind });
      });
    return outcomes as Outcome<PostedEntry>[];
  }

  /**
   * ledger_post: writes the entries at `indexes` in one statement when none of their references exists
   * and the payers' funds cover everything the entries take from them (`written`); otherwise nothing
   * is written and `read` is what it found, for deciding entry by entry.
   */
  private async tryWrite(
    em: EntityManager,
    entries: PreparedEntry[],
    indexes: number[],
    accounts: Map<string, AccountInfo>,
    outcomes: (Outcome<PostedEntry> | undefined)[],
    payers: string[],
  ): Promise<{ written: true } | { written: false; read: LockedRead }> {
    const needs = debitsOf(entries, indexes, accounts);
    let rows;
    try {
      rows = await this.entries.post(
        em,
        byReference(entries, indexes),
        (key) => accounts.get(key)!.id,
        payers,
        payers.map((id) => needText(needs.get(id))),
      );
    } catch (err) {
      throw mapLedgerDbError(err);
    }
    const inserted = new Set(rows.filter((r) => r.written).map((r) => r.id!));
    if (!inserted.size) return { written: false, read: { existing: toExisting(rows), funds: await this.fundsOf(em, rows, payers) } };
    await this.settle(em, entries, indexes, inserted, outcomes);
    return { written: true };
  }

  /**
   * Usually one statement: locks the payers' balance rows in key order, finds the entries or holds
   * that already carry these references, and reads what each payer can spend: its row (balance -
   * held) plus its pending credits.
   *
   * `needs` (per payer id: the most this unit of work may take from it) spares that read of pending
   * credits where the row alone covers the need: the payer's funds are then answered as its row, which
   * is less than or equal to what it has but enough for every decision the caller will make. A payer
   * without a need is always read in full.
   *
   * The pending credits are read in the statement's snapshot, which predates its lock waits. A payer's
   * row that changed after that snapshot (a debit, hold or fold we waited for; a fold also deletes
   * pending credits) is seen by its new version: when such a payer's pending credits were read, the
   * funds are read again by a second statement (readFundsFresh), whose snapshot sees everything
   * committed before the locks were ours (a row that covers the need is read from the locked version
   * itself, so it stands). A credit committed while we waited behind a lock that changed nothing is
   * not counted (a refusal it would have prevented, never an overdraft).
   *
   * The statement is the database function ledger_lock_find_read, so that its plan is made once per
   * connection rather than on every call.
   */
  async lockFindAndReadFunds(
    em: EntityManager,
    table: ReferenceTable,
    references: string[],
    payers: string[],
    needs?: ReadonlyMap<string, bigint>,
  ): Promise<LockedRead> {
    if (!references.length && !payers.length) return { existing: new Map(), funds: new Map() };
    const rows = await this.entries.lockFindRead(
      em,
      table,
      references,
      payers,
      payers.map((id) => needText(needs?.get(id))),
    );
    return { existing: toExisting(rows), funds: await this.fundsOf(em, rows, payers) };
  }

  /** The payers' funds from lockFindRead's rows, read again in a statement of its own when some row was not fresh. */
  private async fundsOf(em: EntityManager, rows: LockFindReadRow[], payers: string[]): Promise<Map<string, bigint>> {
    const funded = rows.filter((r) => r.account_id !== null);
    return funded.every((r) => r.fresh)
      ? new Map(funded.map((r) => [r.account_id!, BigInt(r.available!)]))
      : this.readFundsFresh(em, payers);
  }

  /** What each account can spend (its row plus its pending credits), read by a statement of its own, so in a fresh snapshot. */
  async readFundsFresh(em: EntityManager, accountIds: string[]): Promise<Map<string, bigint>> {
    if (!accountIds.length) return new Map();
    return this.balances.readAvailable(em, accountIds);
  }

  /** Locks balance rows (in key order) until the transaction ends. */
  async lockPayers(em: EntityManager, accountIds: string[]): Promise<void> {
    if (accountIds.length) await this.balances.lockRows(em, accountIds);
  }

  /** The entries or holds that already carry these references. */
  findByReferences(em: EntityManager, table: ReferenceTable, references: string[]): Promise<Map<string, ExistingRef>> {
    return this.entries.findByReferences(em, table, references);
  }

  /**
   * Creates the accounts the accepted entries need, then writes those entries and their postings in
   * one statement (the postings trigger moves the balances). An entry whose reference a concurrent
   * transaction has just written is skipped with its postings, and answered from that one.
   */
  private async write(
    em: EntityManager,
    entries: PreparedEntry[],
    accepted: number[],
    accounts: Map<string, AccountInfo>,
    outcomes: (Outcome<PostedEntry> | undefined)[],
    opts: ApplyOptions,
  ): Promise<void> {
    const unknown = new Map<string, ResolvedRef>();
    for (const i of accepted)
      for (const leg of entries[i].legs) if (!accounts.has(leg.account.key)) unknown.set(leg.account.key, leg.account);
    if (unknown.size) for (const [k, v] of await this.accounts.ensure(em, [...unknown.values()])) accounts.set(k, v);
    try {
      if (opts.beforeWrite) await opts.beforeWrite(em);
      const inserted = await this.entries.insert(em, byReference(entries, accepted), (key) => accounts.get(key)!.id);
      await this.settle(em, entries, accepted, inserted, outcomes);
    } catch (err) {
      throw mapLedgerDbError(err);
    }
  }

  /**
   * Answers the entries at `indexes` once written: those inserted are written; any other was not
   * inserted because a concurrent transaction wrote its reference between our lookup and our insert.
   */
  private async settle(
    em: EntityManager,
    entries: PreparedEntry[],
    indexes: number[],
    inserted: Set<string>,
    outcomes: (Outcome<PostedEntry> | undefined)[],
  ): Promise<void> {
    for (const i of indexes) if (inserted.has(entries[i].id)) outcomes[i] = { ok: { entryId: entries[i].id, replayed: false } };
    const raced = indexes.filter((i) => !inserted.has(entries[i].id));
    if (raced.length)
      resolve(
        entries,
        raced,
        await this.findByReferences(
          em,
          'entries',
          raced.map((i) => entries[i].reference),
        ),
        outcomes,
      );
  }
}

/** The entries at `indexes` in reference order: a fixed order for the reference index entries too, against lock cycles between transactions. */
function byReference(entries: PreparedEntry[], indexes: number[]): PreparedEntry[] {
  return sortedBy(
    indexes.map((i) => entries[i]),
    (e) => e.reference,
  );
}

/** Entries whose reference exists already: the same content is a replay, other content a conflict. */
function resolve(
  entries: PreparedEntry[],
  indexes: number[],
  existing: Map<string, ExistingRef>,
  outcomes: (Outcome<PostedEntry> | undefined)[],
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

/** The accounts the entries touch, and those debited that must not go negative (by key). */
function touched(entries: PreparedEntry[], indexes: number[]) {
  const refs = new Map<string, ResolvedRef>();
  const debited = new Set<string>();
  for (const i of indexes) {
    for (const leg of entries[i].legs) {
      refs.set(leg.account.key, leg.account);
      if (!leg.account.allowNegative && leg.amount < 0n) debited.add(leg.account.key);
    }
  }
  return { refs, debited };
}

/** A need as a bigint literal; none, or one beyond bigint (several huge debits), asks for a full read. */
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
