import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A decision's features are kept uncompressed in its row. A decision (every catalog feature and every
 * rule result, as jsonb) is just over the 2 kB at which PostgreSQL compresses rows, and it compressed
 * the features first, the biggest value: every read of a feature then decompressed all of them again
 * (pglz, about 10 µs a row), which made a backtest over a million decisions take tens of seconds.
 * Storage MAIN compresses the rule results first (read one decision at a time) and the features only
 * when the row cannot fit otherwise. Rows written before keep their compressed features. Self-contained:
 * `down` restores the default.
 */
export class FraudDecisionsUncompressed1763900019000 implements MigrationInterface {
  name = 'FraudDecisionsUncompressed1763900019000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE fraud_decisions ALTER COLUMN features SET STORAGE MAIN`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE fraud_decisions ALTER COLUMN features SET STORAGE EXTENDED`);
  }
}
