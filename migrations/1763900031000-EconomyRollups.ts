import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The economy report's rollup of the orders (docs/economy.md, "Speed"): the facts of the sales created
 * before `economy_rollup_state.orders_until` (null: none yet), counted per UTC day, filled by a job and rebuilt from the
 * orders (`npm run cli -- economy rollups rebuild`). Nothing is written on POST /orders.
 */
export class EconomyRollups1763900031000 implements MigrationInterface {
  name = 'EconomyRollups1763900031000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE economy_order_facts (
        day timestamptz NOT NULL,
        kind text NOT NULL CHECK (kind IN ('sale_credit', 'sale_promo', 'platform_fee', 'pair_lag_1', 'pair_lag_2', 'pair_lag_4',
                                           'pair_lag_5', 'new_buyer', 'again')),
        ref timestamptz NOT NULL,
        n bigint NOT NULL CHECK (n > 0),
        amount bigint NOT NULL,
        PRIMARY KEY (kind, day, ref)
      )`);
    await q.query(`
      CREATE TABLE economy_rollup_state (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        orders_until timestamptz,
        rolled_at timestamptz
      )`);
    await q.query(`INSERT INTO economy_rollup_state DEFAULT VALUES`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE economy_rollup_state`);
    await q.query(`DROP TABLE economy_order_facts`);
  }
}
