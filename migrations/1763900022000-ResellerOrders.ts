import { MigrationInterface, QueryRunner } from 'typeorm';

const MUTABLE = [
  'status',
  'payment_reference',
  'cancel_reason',
  'cancelled_by',
  'cancelled_by_role',
  'dispute_reason',
  'dispute_opened_by',
  'dispute_opened_by_role',
  'resolution_note',
  'resolved_by',
  'bond_paid',
  'debt_added',
  'paid_at',
  'confirmed_at',
  'disputed_at',
  'closed_at',
  'expires_at',
  'confirm_due_at',
  'updated_at',
].join(',');

/**
 * Escrowed reseller orders (src/resellers, docs/resellers.md "Orders"): a buyer opens an order with a
 * reseller (the credits go from the reseller's `reseller_stock` to `escrow`), pays off-platform and
 * marks it paid, the reseller confirms (escrow → the buyer's wallet); unpaid orders expire, paid ones
 * left unconfirmed become disputes, admins resolve disputes. `reseller_order_events` is the order's
 * append-only history. The trigger allows exactly the edges of src/resellers/reseller-order-state.ts.
 */
export class ResellerOrders1763900022000 implements MigrationInterface {
  name = 'ResellerOrders1763900022000';

  static readonly TRANSITIONS = [
    'open_review>open',
    'open_review>rejected',
    'open>paid',
    'open>confirmed',
    'paid>confirmed',
    'disputed>confirmed',
    'open>confirm_review',
    'paid>confirm_review',
    'disputed>confirm_review',
    'confirm_review>confirmed',
    'confirm_review>disputed',
    'open>cancelled',
    'open>expired',
    'paid>disputed',
    'confirmed>disputed',
    'disputed>resolved_buyer',
    'disputed>resolved_reseller',
  ];

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE reseller_orders (
      id uuid PRIMARY KEY,
      reseller_id uuid NOT NULL REFERENCES resellers(user_id),
      buyer_id uuid NOT NULL REFERENCES users(id),
      amount bigint NOT NULL CHECK (amount > 0),
      status text NOT NULL CHECK (status IN ('open_review', 'open', 'paid', 'confirm_review', 'confirmed', 'disputed',
        'cancelled', 'expired', 'rejected', 'resolved_buyer', 'resolved_reseller')),
      payment_reference text CHECK (length(payment_reference) BETWEEN 1 AND 200),
      cancel_reason text CHECK (length(cancel_reason) BETWEEN 1 AND 1000),
      cancelled_by uuid REFERENCES users(id),
      cancelled_by_role text CHECK (cancelled_by_role IN ('buyer', 'reseller')),
      dispute_reason text CHECK (length(dispute_reason) BETWEEN 1 AND 1000),
      dispute_opened_by uuid REFERENCES users(id),
      dispute_opened_by_role text CHECK (dispute_opened_by_role IN ('buyer', 'system')),
      resolution_note text CHECK (length(resolution_note) BETWEEN 1 AND 1000),
      resolved_by uuid REFERENCES users(id),
      bond_paid bigint NOT NULL DEFAULT 0 CHECK (bond_paid >= 0),
      debt_added bigint NOT NULL DEFAULT 0 CHECK (debt_added >= 0),
      opened_at timestamptz NOT NULL,
      paid_at timestamptz,
      confirmed_at timestamptz,
      disputed_at timestamptz,
      closed_at timestamptz,
      expires_at timestamptz NOT NULL,
      confirm_due_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT reseller_orders_not_own CHECK (buyer_id <> reseller_id),
      CONSTRAINT reseller_orders_paid_reference CHECK (paid_at IS NULL OR payment_reference IS NOT NULL),
      CONSTRAINT reseller_orders_cancel_reason CHECK (status <> 'cancelled' OR cancelled_by_role <> 'reseller' OR cancel_reason IS NOT NULL),
      CONSTRAINT reseller_orders_bond_paid CHECK (bond_paid + debt_added = 0 OR (status = 'resolved_buyer' AND bond_paid + debt_added = amount))
    )`);
    await q.query(`CREATE INDEX reseller_orders_expiring ON reseller_orders (expires_at) WHERE status = 'open'`);
    await q.query(`CREATE INDEX reseller_orders_confirm_due ON reseller_orders (confirm_due_at) WHERE status = 'paid'`);
    await q.query(`CREATE INDEX reseller_orders_by_reseller ON reseller_orders (reseller_id, status)`);
    await q.query(`CREATE INDEX reseller_orders_by_reseller_opened ON reseller_orders (reseller_id, opened_at)`);
    await q.query(`CREATE INDEX reseller_orders_by_buyer ON reseller_orders (buyer_id, created_at)`);
    await q.query(`CREATE INDEX reseller_orders_by_status ON reseller_orders (status, opened_at, id)`);
    await q.query(`CREATE TRIGGER reseller_orders_transitions BEFORE UPDATE ON reseller_orders
      FOR EACH ROW EXECUTE FUNCTION guard_transition('${MUTABLE}', '${ResellerOrders1763900022000.TRANSITIONS.join(',')}')`);
    await q.query(
      `CREATE TRIGGER reseller_orders_no_delete BEFORE DELETE ON reseller_orders FOR EACH ROW EXECUTE FUNCTION reject_modification()`,
    );

    await q.query(`CREATE TABLE reseller_order_events (
      id bigserial PRIMARY KEY,
      order_id uuid NOT NULL REFERENCES reseller_orders(id),
      at timestamptz NOT NULL,
      from_status text,
      to_status text NOT NULL,
      actor_id uuid REFERENCES users(id),
      actor_role text NOT NULL CHECK (actor_role IN ('buyer', 'reseller', 'admin', 'system')),
      note text,
      data jsonb NOT NULL DEFAULT '{}',
      CONSTRAINT reseller_order_events_actor CHECK ((actor_role = 'system') = (actor_id IS NULL))
    )`);
    await q.query(`CREATE INDEX reseller_order_events_by_order ON reseller_order_events (order_id, id)`);
    await q.query(`CREATE TRIGGER reseller_order_events_append_only BEFORE UPDATE OR DELETE ON reseller_order_events
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE reseller_order_events`);
    await q.query(`DROP TABLE reseller_orders`);
  }
}
