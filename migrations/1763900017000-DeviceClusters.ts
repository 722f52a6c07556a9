import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A device row belongs to one account, so the same browser signed in to two accounts is two rows.
 * `cluster_id` ties them together: a device registered while the login presented another account's
 * device token joins that device's cluster (null: the device is its own cluster). The fraud features
 * `device.*` and `recipient.sharesDevice` read the cluster, so one device behind several accounts shows.
 */
export class DeviceClusters1763900017000 implements MigrationInterface {
  name = 'DeviceClusters1763900017000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices ADD COLUMN cluster_id uuid REFERENCES devices(id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE devices DROP COLUMN cluster_id`);
  }
}
