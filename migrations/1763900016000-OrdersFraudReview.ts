import { MigrationInterface, QueryRunner } from 'typeorm';

const ORDER_MUTABLE = 'status,refunded_at,refunded_by,refund_reason,refund_charged_creator';

/**
 * Orders and credit transfers held for a fraud review (src/orders, docs/economy.md): an order may wait
 * in `held_for_review` (the buyer's funds reserved by ledger holds, the item not owned yet) until an
 * admin approves it (`completed`) or rejects it (`rejected`); an approved order whose owner meanwhile
 * got the item is `cancelled`. Each row remembers the ledger holds reserving its funds. Credit
 * transfers had the states already. Self-contained: `down` restores migration 1763900006000's checks
 * and trigger (it fails while an order is in one of the new states).
 */
export class OrdersFraudReview1763900016000 implements MigrationInterface {
  name = 'OrdersFraudReview1763900016000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE orders DROP CONSTRAINT orders_status_check`);
    await q.query(`ALTER TABLE orders ADD CONSTRAINT orders_status_check
      CHECK (status IN ('completed', 'refunded', 'held_for_review', 'rejected', 'cancelled'))`);
    await q.query(`ALTER TABLE orders ADD COLUMN review_hold_ids uuid[] NOT NULL DEFAULT '{}'`);
    await q.query(`DROP TRIGGER orders_transitions ON orders`);
    await q.query(`CREATE TRIGGER orders_transitions BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION guard_transition(
      '${ORDER_MUTABLE}', 'completed>refunded,held_for_review>completed,held_for_review>rejected,held_for_review>cancelled')`);

    await q.query(`ALTER TABLE credit_transfers ADD COLUMN hold_id uuid`);
    await q.query(`ALTER TABLE credit_transfers ADD CONSTRAINT credit_transfers_held CHECK (status = 'completed' OR hold_id IS NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE credit_transfers DROP CONSTRAINT credit_transfers_held`);
    await q.query(`ALTER TABLE credit_transfers DROP COLUMN hold_id`);

    await q.query(`DROP TRIGGER orders_transitions ON orders`);
    await q.query(`CREATE TRIGGER orders_transitions BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION guard_transition(
      '${ORDER_MUTABLE}', 'completed>refunded')`);
    await q.query(`ALTER TABLE orders DROP COLUMN review_hold_ids`);
    await q.query(`ALTER TABLE orders DROP CONSTRAINT orders_status_check`);
    await q.query(`ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('completed', 'refunded'))`);
  }
}
