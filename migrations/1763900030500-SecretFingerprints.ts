import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Which JWT_SECRET and ENCRYPTION_KEY the database belongs to: an HMAC of a fixed label under each
 * secret (never the secret), written by the first server that starts on it. A process started with
 * other secrets refuses to start (docs/deployment.md, "Several nodes").
 */
export class SecretFingerprints1763900030500 implements MigrationInterface {
  name = 'SecretFingerprints1763900030500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE secret_fingerprints (
        name text PRIMARY KEY,
        fingerprint text NOT NULL,
        recorded_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE secret_fingerprints`);
  }
}
