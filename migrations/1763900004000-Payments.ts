import { MigrationInterface, QueryRunner } from 'typeorm';

/** Token packages, token purchases through Stripe, received Stripe events, fraud outcomes (src/payments). */
export class Payments1763900004000 implements MigrationInterface {
  name = 'Payments1763900004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE token_packages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
      price_cents bigint NOT NULL CHECK (price_cents BETWEEN 1 AND 99999999),
      currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      credits bigint NOT NULL CHECK (credits > 0),
      bonus_promo bigint NOT NULL DEFAULT 0 CHECK (bonus_promo >= 0),
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX token_packages_listing ON token_packages (price_cents, id) WHERE active`);
    // The default set (1,000 credits ≈ US$1); admins manage them from here on.
    await q.query(`INSERT INTO token_packages (name, price_cents, currency, credits, bonus_promo) VALUES
      ('Starter', 499, 'USD', 5000, 0),
      ('Popular', 999, 'USD', 10000, 1000),
      ('Plus', 1999, 'USD', 20000, 3000),
      ('Pro', 4999, 'USD', 50000, 10000),
      ('Mega', 9999, 'USD', 100000, 25000)`);

    // A purchase keeps a snapshot of its package; `granted_*` is what the user currently holds from it
    // (minted minus clawed back), reconciled against the status after every change.
    await q.query(`CREATE TABLE token_purchases (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id),
      idempotency_key text NOT NULL,
      package_id uuid NOT NULL REFERENCES token_packages (id),
      price_cents bigint NOT NULL CHECK (price_cents > 0),
      currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      credits bigint NOT NULL CHECK (credits > 0),
      bonus_promo bigint NOT NULL CHECK (bonus_promo >= 0),
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded', 'disputed')),
      payment_intent_id text UNIQUE,
      charge_id text,
      card_fingerprint text,
      card_country text CHECK (card_country ~ '^[A-Z]{2}$'),
      risk_score int CHECK (risk_score BETWEEN 0 AND 100),
      failure_code text,
      failure_message text,
      refunded_cents bigint NOT NULL DEFAULT 0,
      dispute_id text,
      dispute_status text CHECK (dispute_status IN ('open', 'won', 'lost')),
      granted_credits bigint NOT NULL DEFAULT 0,
      granted_promo bigint NOT NULL DEFAULT 0,
      clawed_earnings bigint NOT NULL DEFAULT 0,
      ledger_ops int NOT NULL DEFAULT 0 CHECK (ledger_ops >= 0),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      paid_at timestamptz,
      CONSTRAINT token_purchases_idempotency UNIQUE (user_id, idempotency_key),
      CHECK (refunded_cents BETWEEN 0 AND price_cents),
      CHECK (granted_credits BETWEEN 0 AND credits),
      CHECK (granted_promo BETWEEN 0 AND bonus_promo),
      CHECK (clawed_earnings BETWEEN 0 AND credits),
      CHECK ((dispute_id IS NULL) = (dispute_status IS NULL)),
      CHECK (status <> 'disputed' OR dispute_status IN ('open', 'lost')),
      CHECK (status IN ('pending', 'failed') OR paid_at IS NOT NULL),
      CHECK (status = 'succeeded' OR granted_credits = 0),
      CHECK (status = 'succeeded' OR granted_promo = 0)
    )`);
    await q.query(`CREATE INDEX token_purchases_user ON token_purchases (user_id, created_at DESC)`);

    // The status machine's edges, the package snapshot and one-way facts (payment intent, refunded
    // amount, a closed dispute) are enforced here too, whoever writes.
    await q.query(`CREATE FUNCTION token_purchase_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'token purchases are never deleted' USING ERRCODE = 'restrict_violation';
        END IF;
        IF NEW.status <> OLD.status AND (OLD.status, NEW.status) NOT IN (
            ('pending', 'succeeded'), ('pending', 'failed'), ('pending', 'refunded'), ('pending', 'disputed'),
            ('failed', 'succeeded'), ('failed', 'refunded'), ('failed', 'disputed'),
            ('succeeded', 'refunded'), ('succeeded', 'disputed'),
            ('disputed', 'succeeded')) THEN
          RAISE EXCEPTION 'token purchase % cannot go from % to %', OLD.id, OLD.status, NEW.status USING ERRCODE = 'check_violation';
        END IF;
        IF (NEW.user_id, NEW.package_id, NEW.idempotency_key, NEW.price_cents, NEW.currency, NEW.credits, NEW.bonus_promo, NEW.created_at)
             IS DISTINCT FROM (OLD.user_id, OLD.package_id, OLD.idempotency_key, OLD.price_cents, OLD.currency, OLD.credits, OLD.bonus_promo, OLD.created_at)
           OR (OLD.payment_intent_id IS NOT NULL AND NEW.payment_intent_id IS DISTINCT FROM OLD.payment_intent_id)
           OR (OLD.dispute_id IS NOT NULL AND NEW.dispute_id IS DISTINCT FROM OLD.dispute_id)
           OR (OLD.dispute_status IN ('won', 'lost') AND NEW.dispute_status IS DISTINCT FROM OLD.dispute_status)
           OR NEW.refunded_cents < OLD.refunded_cents
           OR NEW.ledger_ops < OLD.ledger_ops THEN
          RAISE EXCEPTION 'token purchase %: immutable or one-way field changed', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER token_purchases_guard BEFORE UPDATE OR DELETE ON token_purchases
      FOR EACH ROW EXECUTE FUNCTION token_purchase_guard()`);

    // Every Stripe event is recorded once (the id is the key); processing happens in a queued job.
    await q.query(`CREATE TABLE stripe_events (
      id text PRIMARY KEY CHECK (char_length(id) BETWEEN 1 AND 255),
      type text NOT NULL,
      livemode boolean NOT NULL,
      stripe_created_at timestamptz NOT NULL,
      payload jsonb NOT NULL,
      received_at timestamptz NOT NULL,
      status text NOT NULL CHECK (status IN ('queued', 'processed', 'ignored', 'rejected')),
      attempts int NOT NULL DEFAULT 0,
      last_error text,
      processed_at timestamptz,
      purchase_id uuid REFERENCES token_purchases (id)
    )`);
    await q.query(`CREATE INDEX stripe_events_unfinished ON stripe_events (received_at) WHERE status = 'queued'`);
    await q.query(`CREATE INDEX stripe_events_purchase ON stripe_events (purchase_id) WHERE purchase_id IS NOT NULL`);

    // Outcomes the fraud rules learn from (user.chargebacks, backtests). Append-only.
    await q.query(`CREATE TABLE fraud_outcomes (
      id bigserial PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id),
      kind text NOT NULL CONSTRAINT fraud_outcomes_kind CHECK (kind IN ('chargeback', 'dispute_lost')),
      reference text NOT NULL UNIQUE,
      purchase_id uuid REFERENCES token_purchases (id),
      occurred_at timestamptz NOT NULL,
      data jsonb NOT NULL DEFAULT '{}'
    )`);
    await q.query(`CREATE INDEX fraud_outcomes_user ON fraud_outcomes (user_id, occurred_at)`);
    await q.query(`CREATE INDEX fraud_outcomes_kind ON fraud_outcomes (kind, occurred_at)`);
    await q.query(`CREATE TRIGGER fraud_outcomes_append_only BEFORE UPDATE OR DELETE ON fraud_outcomes
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
    await q.query(`CREATE TRIGGER fraud_outcomes_no_truncate BEFORE TRUNCATE ON fraud_outcomes
      FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE fraud_outcomes, stripe_events, token_purchases, token_packages`);
    await q.query(`DROP FUNCTION token_purchase_guard()`);
  }
}
