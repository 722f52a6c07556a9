import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { PreparedEntry } from './entry-input';

/** Which rows a reference names: an entry's (ledger_entries) or a hold's (ledger_holds). */
export type ReferenceTable = 'entries' | 'holds';

/** A row that already carries a reference: its id and content hash (the same hash is a replay). */
export interface ExistingRef {
  id: string;
  hash: string;
}

/** One row of ledger_lock_find_read: either an existing reference or a locked payer's funds. */
export interface LockFindReadRow {
  id: string | null;
  reference: string | null;
  content_hash: string | null;
  account_id: string | null;
  available: string | null;
  fresh: boolean | null;
}

/** The rows that carry a reference, by reference. */
export function toExisting(rows: { id: string | null; reference: string | null; content_hash: string | null }[]): Map<string, ExistingRef> {
  return new Map(rows.filter((r) => r.reference !== null).map((r) => [r.reference!, { id: r.id!, hash: r.content_hash! }]));
}

/** ledger_entries and ledger_postings, and the statement every ledger write starts with. */
@Injectable()
export class LedgerEntriesRepository {
  /**
   * One statement (the database function ledger_lock_find_read, migrations 1763900010000 and
   * 1763900013000): locks the payers' balance rows in key order, finds the entries or holds that
   * already carry `references`, and reads what each payer can spend. `needs` is per payer (same order),
   * a bigint literal or 'NULL' (see PostingEngineService.lockFindAndReadFunds).
   */
  lockFindRead(
    em: EntityManager,
    table: ReferenceTable,
    references: string[],
    payers: string[],
    needs: string[],
  ): Promise<LockFindReadRow[]> {
    return queryRows<LockFindReadRow>(
      em,
      'SELECT * FROM ledger_lock_find_read($1, $2::text[], $3::bigint[], $4::bigint[])',
      [table === 'holds', references, payers, pgList(needs)],
      { prepare: true },
    );
  }

  /** The entries or holds that already carry these references (no lock taken). */
  async findByReferences(em: EntityManager, table: ReferenceTable, references: string[]): Promise<Map<string, ExistingRef>> {
    const rows = await queryRows<{ id: string; reference: string; content_hash: string }>(
      em,
      table === 'holds'
        ? 'SELECT t.id, t.reference, t.content_hash FROM ledger_holds t WHERE t.reference = ANY($1::text[])'
        : 'SELECT t.id, t.reference, t.content_hash FROM ledger_entries t WHERE t.reference = ANY($1::text[])',
      [references],
      { prepare: true },
    );
    return toExisting(rows);
  }

  /**
   * One statement (the database function ledger_post, migration 1763900028000): lockFindRead's rows
   * for the entries' references and `payers`, and, when none of the references exists and every
   * payer's funds cover its need (a bigint literal or 'NULL', per payer), the ids of the entries it
   * then wrote (`written`), as `insert` writes them. Otherwise it writes nothing.
   */
  post(
    em: EntityManager,
    entries: PreparedEntry[],
    accountId: (key: string) => string,
    payers: string[],
    needs: string[],
  ): Promise<(LockFindReadRow & { written: boolean })[]> {
    return queryRows<LockFindReadRow & { written: boolean }>(
      em,
      'SELECT * FROM ledger_post($1::bigint[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::uuid[], $10::uuid[], $11::bigint[], $12::bigint[])',
      [pgList(payers), pgList(needs), ...entryArrays(entries, accountId)],
      { prepare: true },
    );
  }

  /**
   * Writes entries (in the order given) and their postings in one statement (the database function
   * ledger_insert_entries); the postings trigger moves the balances. An entry whose reference a
   * concurrent transaction has just written is skipped with its postings. Answers the ids of the
   * entries written.
   */
  async insert(em: EntityManager, entries: PreparedEntry[], accountId: (key: string) => string): Promise<Set<string>> {
    const rows = await queryRows<{ id: string }>(
      em,
      'SELECT id::text AS id FROM ledger_insert_entries($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::uuid[], $8::uuid[], $9::bigint[], $10::bigint[]) id',
      entryArrays(entries, accountId),
      { prepare: true },
    );
    return new Set(rows.map((r) => r.id));
  }
}

/** The entries and their legs as the arrays ledger_insert_entries takes. */
function entryArrays(entries: PreparedEntry[], accountId: (key: string) => string): unknown[] {
  const legId: string[] = [];
  const legEntry: string[] = [];
  const legAccount: string[] = [];
  const legAmount: string[] = [];
  for (const e of entries) {
    for (const leg of e.legs) {
      legId.push(leg.id);
      legEntry.push(e.id);
      legAccount.push(accountId(leg.account.key));
      legAmount.push(leg.amount.toString());
    }
  }
  return [
    pgList(entries.map((e) => e.id)),
    entries.map((e) => e.reference),
    entries.map((e) => e.kind),
    entries.map((e) => e.metadataJson),
    pgList(entries.map((e) => e.contentHash)),
    entries.map((e) => e.createdAt),
    pgList(legId),
    pgList(legEntry),
    pgList(legAccount),
    pgList(legAmount),
  ];
}

/**
 * A PostgreSQL array literal of values that never need quoting (ids, digits, hex, NULL): the driver
 * would otherwise escape every element one by one, which shows in a batch of hundreds.
 */
function pgList(values: string[]): string {
  return `{${values.join(',')}}`;
}
