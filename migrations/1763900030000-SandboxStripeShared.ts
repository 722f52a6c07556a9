import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Stripe sandbox's state (no STRIPE_SECRET_KEY), shared by every server process on the database:
 * its objects in Stripe's JSON shape, grouped by their PaymentIntent (each scenario locks the
 * PaymentIntent's row), and the answers of its Idempotency-Keys (no answer yet: in flight).
 */
export class SandboxStripeShared1763900030000 implements MigrationInterface {
  name = 'SandboxStripeShared1763900030000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sandbox_stripe_objects (
        id text PRIMARY KEY,
        kind text NOT NULL,
        payment_intent text,
        data jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX sandbox_stripe_objects_payment_intent ON sandbox_stripe_objects (payment_intent) WHERE kind <> 'event'`);
    await q.query(`
      CREATE TABLE sandbox_stripe_idempotency (
        key text PRIMARY KEY,
        fingerprint text NOT NULL,
        status integer,
        body jsonb,
        CONSTRAINT sandbox_stripe_idempotency_answer CHECK ((status IS NULL) = (body IS NULL))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sandbox_stripe_idempotency`);
    await q.query(`DROP TABLE sandbox_stripe_objects`);
  }
}
