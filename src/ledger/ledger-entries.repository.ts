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
   * Writes entries (in the order given) and their postings in one statement; the postings trigger
   * moves the balances. An entry whose reference a concurrent transaction has just written is skipped
   * with its postings. Answers the ids of the entries written.
   */
  async insert(em: EntityManager, entries: PreparedEntry[], accountId: (key: string) => string): Promise<Set<string>> {
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
      ],
      { prepare: true },
    );
    return new Set(rows.map((r) => r.id));
  }
}

/**
 * A PostgreSQL array literal of values that never need quoting (ids, digits, hex, NULL): the driver
 * would otherwise escape every element one by one, which shows in a batch of hundreds.
 */
function pgList(values: string[]): string {
  return `{${values.join(',')}}`;
}
