import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The API's ids are UUIDs (docs/api.md). These tables had bigserial ids that their lists exposed: inventory
 * items (GET /me/inventory), sale lines (GET /me/sales), audit entries (GET /admin/audit-log), security
 * events (GET /me/security-events), fraud labels (GET /admin/fraud/labels) and dev mailbox messages.
 * Each keeps its bigint, renamed `seq` (values, sequence, primary key and indexes unchanged), as the
 * internal order of its newest-first list: exact insertion order, rows of one transaction included, and
 * the cursors given out before this migration stay valid. Each gets `id uuid` (existing rows get fresh
 * ones), unique, which is what the API shows. Nothing refers to these rows by their old ids.
 */
export class UuidIds1763900025000 implements MigrationInterface {
  name = 'UuidIds1763900025000';

  static readonly TABLES = ['audit_log', 'dev_mailbox', 'security_events', 'fraud_labels', 'inventory', 'sale_earnings'];

  async up(q: QueryRunner): Promise<void> {
    for (const table of UuidIds1763900025000.TABLES) {
      await q.query(`ALTER TABLE ${table} RENAME COLUMN id TO seq`);
      await q.query(`ALTER TABLE ${table} ADD COLUMN id uuid NOT NULL DEFAULT uuidv7() CONSTRAINT ${table}_id_key UNIQUE`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [...UuidIds1763900025000.TABLES].reverse()) {
      await q.query(`ALTER TABLE ${table} DROP COLUMN id`);
      await q.query(`ALTER TABLE ${table} RENAME COLUMN seq TO id`);
    }
  }
}
