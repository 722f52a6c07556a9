import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The economy report groups a period's orders by buyer-creator pair and checks the pairs against the
 * orders before it. Without a joint estimate the planner takes a few thousand pairs where there are
 * nearly as many as orders, and sorts them for a merge anti-join instead of hashing the (smaller)
 * history; statistics only, nothing is written on POST /orders.
 */
export class EconomyReportPairStatistics1763900029500 implements MigrationInterface {
  name = 'EconomyReportPairStatistics1763900029500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE STATISTICS orders_buyer_seller_ndistinct (ndistinct) ON buyer_id, seller_id FROM orders`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP STATISTICS orders_buyer_seller_ndistinct`);
  }
}
