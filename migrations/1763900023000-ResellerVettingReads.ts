import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reseller vetting's report lists the other accounts that share a device cluster or a login network
 * with the applicant (src/account-guard/account-links.repository.ts); these indexes find them from
 * the cluster or the network instead of scanning every device and network of every account.
 */
export class ResellerVettingReads1763900023000 implements MigrationInterface {
  name = 'ResellerVettingReads1763900023000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX devices_by_cluster ON devices ((COALESCE(cluster_id, id)))`);
    await q.query(`CREATE INDEX known_networks_by_network ON known_networks (network)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX known_networks_by_network`);
    await q.query(`DROP INDEX devices_by_cluster`);
  }
}
