import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The economy health report (GET /admin/economy/report) and its harm budgets: indexes for the time
 * ranges it reads from each module's tables, and the breaches the daily budget check records.
 */
export class EconomyReport1763900029000 implements MigrationInterface {
  name = 'EconomyReport1763900029000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX ledger_entries_created ON ledger_entries (created_at)`);
    await q.query(
      `CREATE INDEX orders_sales_by_pair ON orders (buyer_id, seller_id, created_at) WHERE status IN ('completed', 'refunded')`,
    );
    await q.query(`CREATE INDEX orders_refunded ON orders (refunded_at) WHERE refunded_at IS NOT NULL`);
    await q.query(`CREATE INDEX sale_earnings_created ON sale_earnings (created_at)`);
    await q.query(`CREATE INDEX sale_earnings_matured ON sale_earnings (matured_at) WHERE matured_at IS NOT NULL`);
    await q.query(`CREATE INDEX sale_earnings_reversed ON sale_earnings (reversed_at) WHERE reversed_at IS NOT NULL`);
    await q.query(`CREATE INDEX token_purchases_paid ON token_purchases (paid_at) WHERE paid_at IS NOT NULL`);
    await q.query(`CREATE INDEX credit_transfers_created ON credit_transfers (created_at)`);
    await q.query(`CREATE INDEX fraud_reviews_created ON fraud_reviews (created_at)`);
    await q.query(`CREATE INDEX fraud_reviews_decided ON fraud_reviews (decided_at) WHERE decided_at IS NOT NULL`);
    await q.query(`CREATE INDEX security_events_kind ON security_events (kind, occurred_at)`);
    await q.query(`CREATE INDEX reseller_orders_opened ON reseller_orders (opened_at)`);
    await q.query(`CREATE INDEX reseller_orders_disputed ON reseller_orders (disputed_at) WHERE disputed_at IS NOT NULL`);
    await q.query(`CREATE INDEX reseller_orders_closed ON reseller_orders (closed_at) WHERE closed_at IS NOT NULL`);
    // A refunded purchase changes no more: its last update is the refund.
    await q.query(`CREATE INDEX token_purchases_refunded ON token_purchases (updated_at) WHERE status = 'refunded'`);

    await q.query(`
      CREATE TABLE harm_budget_breaches (
        id uuid PRIMARY KEY DEFAULT uuidv7(),
        budget text NOT NULL CHECK (budget IN ('chargeback_rate', 'reseller_dispute_loss_rate', 'review_false_positive_share')),
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cleared')),
        threshold_bp integer NOT NULL CHECK (threshold_bp BETWEEN 0 AND 10000),
        window_days integer NOT NULL CHECK (window_days >= 1),
        numerator bigint NOT NULL CHECK (numerator >= 0),
        denominator bigint NOT NULL CHECK (denominator > 0),
        opened_at timestamptz NOT NULL,
        cleared_at timestamptz,
        CONSTRAINT harm_budget_breaches_cleared CHECK ((status = 'open') = (cleared_at IS NULL) AND (cleared_at IS NULL OR cleared_at >= opened_at))
      )`);
    await q.query(`CREATE UNIQUE INDEX harm_budget_breaches_one_open ON harm_budget_breaches (budget) WHERE status = 'open'`);
    await q.query(`CREATE INDEX harm_budget_breaches_opened ON harm_budget_breaches (opened_at)`);
    await q.query(`
      CREATE TRIGGER harm_budget_breaches_transitions BEFORE UPDATE ON harm_budget_breaches
        FOR EACH ROW EXECUTE FUNCTION guard_transition('status,cleared_at', 'open>cleared')`);
    await q.query(`
      CREATE TRIGGER harm_budget_breaches_no_delete BEFORE DELETE ON harm_budget_breaches
        FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE harm_budget_breaches`);
    for (const index of [
      'token_purchases_refunded',
      'reseller_orders_closed',
      'reseller_orders_disputed',
      'reseller_orders_opened',
      'security_events_kind',
      'fraud_reviews_decided',
      'fraud_reviews_created',
      'credit_transfers_created',
      'token_purchases_paid',
      'sale_earnings_reversed',
      'sale_earnings_matured',
      'sale_earnings_created',
      'orders_refunded',
      'orders_sales_by_pair',
      'ledger_entries_created',
    ]) {
      await q.query(`DROP INDEX ${index}`);
    }
  }
}
