import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rollup of the orders also keeps the item gifts (a sale bought for someone else: the giver, the
 * receiver, its time) that gift reciprocity matches, so the report no longer scans the orders for them.
 * It is emptied: the job's next run rolls everything up again, with them.
 */
export class EconomyRollupsItemGifts1763900031700 implements MigrationInterface {
  name = 'EconomyRollupsItemGifts1763900031700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE economy_item_gifts (
        order_id uuid PRIMARY KEY,
        at timestamptz NOT NULL,
        giver uuid NOT NULL,
        receiver uuid NOT NULL
      )`);
    await q.query(`CREATE INDEX economy_item_gifts_at ON economy_item_gifts (at)`);
    await q.query(`DELETE FROM economy_order_facts`);
    await q.query(`UPDATE economy_rollup_state SET orders_until = NULL, rolled_at = NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE economy_item_gifts`);
  }
}
