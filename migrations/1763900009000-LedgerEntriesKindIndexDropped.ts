import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Nothing reads entries by kind (statements and history go through an account's postings, verification
 * and sealing through the commit-order index), yet every entry paid for one more index insert on the
 * ledger's hottest path. A report or backtest that needs entries by kind can bring back an index that
 * fits its query.
 */
export class LedgerEntriesKindIndexDropped1763900009000 implements MigrationInterface {
  name = 'LedgerEntriesKindIndexDropped1763900009000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ledger_entries_kind`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ledger_entries_kind ON ledger_entries (kind, created_at)`);
  }
}
