import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rollup of the orders also counts the creators' CREDIT sale shares accrued, matured and reversed per day.
 * It is emptied: the job's next run rolls everything up again, with them.
 */
export class EconomyRollupsSaleLines1763900031500 implements MigrationInterface {
  name = 'EconomyRollupsSaleLines1763900031500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE economy_order_facts DROP CONSTRAINT economy_order_facts_kind_check`);
    await q.query(`
      ALTER TABLE economy_order_facts ADD CONSTRAINT economy_order_facts_kind_check
        CHECK (kind IN ('sale_credit', 'sale_promo', 'platform_fee', 'earnings_accrued', 'earnings_matured', 'earnings_reversed',
                        'pair_lag_1', 'pair_lag_2', 'pair_lag_4', 'pair_lag_5', 'new_buyer', 'again'))`);
    await q.query(`DELETE FROM economy_order_facts`);
    await q.query(`UPDATE economy_rollup_state SET orders_until = NULL, rolled_at = NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM economy_order_facts WHERE kind LIKE 'earnings_%'`);
    await q.query(`ALTER TABLE economy_order_facts DROP CONSTRAINT economy_order_facts_kind_check`);
    await q.query(`
      ALTER TABLE economy_order_facts ADD CONSTRAINT economy_order_facts_kind_check
        CHECK (kind IN ('sale_credit', 'sale_promo', 'platform_fee', 'pair_lag_1', 'pair_lag_2', 'pair_lag_4', 'pair_lag_5',
                        'new_buyer', 'again'))`);
  }
}
