import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The fraud checks of token purchases (src/payments/screening): the check of each purchase request,
 * made before its PaymentIntent exists (a retry of the request reuses it), and on the purchase what the
 * checks did to it: refused (blocked when the payment succeeded, or a review rejected), and the ledger
 * holds keeping credits minted under review unspendable.
 */
export class PaymentsFraud1763900015000 implements MigrationInterface {
  name = 'PaymentsFraud1763900015000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key to token_purchases: a request is checked before its purchase exists, and a blocked one never gets one.
    await q.query(`CREATE TABLE token_purchase_screenings (
      purchase_id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id),
      package_id uuid NOT NULL REFERENCES token_packages (id),
      decision_id uuid NOT NULL,
      outcome text NOT NULL CHECK (outcome IN ('ALLOW', 'REVIEW', 'BLOCK')),
      created_at timestamptz NOT NULL)`);
    await q.query(`CREATE TRIGGER token_purchase_screenings_append_only BEFORE UPDATE OR DELETE ON token_purchase_screenings
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);

    await q.query(`ALTER TABLE token_purchases
      ADD COLUMN fraud_refusal text CHECK (fraud_refusal IN ('blocked', 'rejected')),
      ADD COLUMN review_hold_ids uuid[] NOT NULL DEFAULT '{}',
      ADD CONSTRAINT token_purchases_refused_holds_nothing
        CHECK (fraud_refusal IS NULL OR (granted_credits = 0 AND granted_promo = 0 AND cardinality(review_hold_ids) = 0))`);
    await q.query(`CREATE FUNCTION token_purchase_refusal_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.fraud_refusal IS NOT NULL AND NEW.fraud_refusal IS DISTINCT FROM OLD.fraud_refusal THEN
          RAISE EXCEPTION 'token purchase %: a fraud refusal is final', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER token_purchases_refusal_guard BEFORE UPDATE ON token_purchases
      FOR EACH ROW EXECUTE FUNCTION token_purchase_refusal_guard()`);
    // Refused payments still owed their refund (the periodic sweep behind the refund job).
    await q.query(`CREATE INDEX token_purchases_refunds_due ON token_purchases (updated_at)
      WHERE fraud_refusal IS NOT NULL AND paid_at IS NOT NULL AND refunded_cents < price_cents AND dispute_id IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX token_purchases_refunds_due`);
    await q.query(`DROP TRIGGER token_purchases_refusal_guard ON token_purchases`);
    await q.query(`DROP FUNCTION token_purchase_refusal_guard()`);
    await q.query(`ALTER TABLE token_purchases DROP CONSTRAINT token_purchases_refused_holds_nothing,
      DROP COLUMN review_hold_ids, DROP COLUMN fraud_refusal`);
    await q.query(`DROP TABLE token_purchase_screenings`);
  }
}
