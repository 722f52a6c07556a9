import { MigrationInterface, QueryRunner } from 'typeorm';

/** Item orders, inventory, creators' sale earnings and credit transfers (src/orders). */
export class Orders1763900006000 implements MigrationInterface {
  name = 'Orders1763900006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE orders (
      id uuid PRIMARY KEY,
      buyer_id uuid NOT NULL REFERENCES users(id),
      owner_id uuid NOT NULL REFERENCES users(id),
      listing_id uuid NOT NULL REFERENCES listings(id),
      -- the title when bought, like an order line's product name
      listing_title text NOT NULL,
      seller_id uuid NOT NULL,
      pay_with text NOT NULL CHECK (pay_with IN ('CREDIT', 'PROMO')),
      -- the price paid, fixed on the order whatever happens to the listing later
      price bigint NOT NULL CHECK (price >= 0),
      derivation_cost bigint NOT NULL CHECK (derivation_cost >= 0),
      profit bigint NOT NULL CHECK (profit >= 0),
      platform_fee bigint NOT NULL CHECK (platform_fee >= 0),
      -- where the buyer's funds came from ({"wallet": "900", "earnings": "100"}), so a refund returns them there
      paid_from jsonb NOT NULL,
      status text NOT NULL CHECK (status IN ('completed', 'refunded')),
      idempotency_key text NOT NULL,
      created_at timestamptz NOT NULL,
      refunded_at timestamptz,
      refunded_by uuid,
      refund_reason text,
      refund_charged_creator boolean,
      CONSTRAINT orders_price_formula CHECK (price = derivation_cost + profit + platform_fee),
      CONSTRAINT orders_not_own_listing CHECK (buyer_id <> seller_id),
      CONSTRAINT orders_refund_fields CHECK ((status = 'refunded') = (refunded_at IS NOT NULL)),
      CONSTRAINT orders_idempotency UNIQUE (buyer_id, idempotency_key)
    )`);
    await q.query(`CREATE INDEX orders_buyer ON orders (buyer_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX orders_listing ON orders (listing_id)`);

    await q.query(`CREATE TABLE inventory (
      id bigserial PRIMARY KEY,
      owner_id uuid NOT NULL REFERENCES users(id),
      listing_id uuid NOT NULL,
      -- the inventory row is written first (it is the ownership lock), the order at the end of the transaction
      order_id uuid NOT NULL UNIQUE REFERENCES orders(id) DEFERRABLE INITIALLY DEFERRED,
      acquired_at timestamptz NOT NULL,
      revoked_at timestamptz
    )`);
    await q.query(`CREATE UNIQUE INDEX inventory_owned_once ON inventory (owner_id, listing_id) WHERE revoked_at IS NULL`);
    await q.query(`CREATE INDEX inventory_by_owner ON inventory (owner_id, id DESC) WHERE revoked_at IS NULL`);

    await q.query(`CREATE TABLE sale_earnings (
      id bigserial PRIMARY KEY,
      order_id uuid NOT NULL REFERENCES orders(id),
      creator_id uuid NOT NULL,
      -- the creator's listing in the sold item's chain
      listing_id uuid NOT NULL,
      role text NOT NULL CHECK (role IN ('seller', 'ancestor')),
      asset text NOT NULL CHECK (asset IN ('CREDIT', 'DEV_TOKEN')),
      amount bigint NOT NULL CHECK (amount >= 0),
      status text NOT NULL CHECK (status IN ('pending', 'matured', 'reversed')),
      created_at timestamptz NOT NULL,
      matures_at timestamptz NOT NULL,
      matured_at timestamptz,
      reversed_at timestamptz,
      CONSTRAINT sale_earnings_one_per_listing UNIQUE (order_id, listing_id),
      CONSTRAINT sale_earnings_matured CHECK ((status = 'pending') = (matured_at IS NULL AND reversed_at IS NULL))
    )`);
    await q.query(`CREATE INDEX sale_earnings_due ON sale_earnings (matures_at, id) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX sale_earnings_by_creator ON sale_earnings (creator_id, id DESC)`);

    // When each creator first earned from a sale (decides the longer hold for new creators).
    await q.query(`CREATE TABLE creator_first_sales (
      creator_id uuid PRIMARY KEY,
      first_sale_at timestamptz NOT NULL
    )`);

    await q.query(`CREATE TABLE credit_transfers (
      id uuid PRIMARY KEY,
      from_user_id uuid NOT NULL REFERENCES users(id),
      to_user_id uuid NOT NULL REFERENCES users(id),
      amount bigint NOT NULL CHECK (amount > 0),
      note text CHECK (length(note) <= 500),
      status text NOT NULL CHECK (status IN ('completed', 'held_for_review', 'rejected')),
      idempotency_key text NOT NULL,
      created_at timestamptz NOT NULL,
      CONSTRAINT credit_transfers_not_to_self CHECK (from_user_id <> to_user_id),
      CONSTRAINT credit_transfers_idempotency UNIQUE (from_user_id, idempotency_key)
    )`);
    await q.query(`CREATE INDEX credit_transfers_by_sender ON credit_transfers (from_user_id, created_at)`);

    // Rows are history: only the listed columns change, only along the allowed transitions, never deleted.
    await q.query(`CREATE FUNCTION guard_transition() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        mutable text[] := string_to_array(TG_ARGV[0], ',');
        allowed text[] := string_to_array(TG_ARGV[1], ',');
        old_row jsonb := to_jsonb(OLD);
        new_row jsonb := to_jsonb(NEW);
      BEGIN
        IF new_row - mutable IS DISTINCT FROM old_row - mutable THEN
          RAISE EXCEPTION '%: only % may change', TG_TABLE_NAME, TG_ARGV[0] USING ERRCODE = 'check_violation';
        END IF;
        IF new_row->>'status' IS DISTINCT FROM old_row->>'status'
           AND NOT ((old_row->>'status') || '>' || (new_row->>'status')) = ANY (allowed) THEN
          RAISE EXCEPTION '%: status cannot go from % to %', TG_TABLE_NAME, old_row->>'status', new_row->>'status'
            USING ERRCODE = 'check_violation';
        END IF;
        IF old_row->>'revoked_at' IS NOT NULL AND new_row->>'revoked_at' IS DISTINCT FROM old_row->>'revoked_at' THEN
          RAISE EXCEPTION '%: revoked_at is set once', TG_TABLE_NAME USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    const guard = async (table: string, mutable: string, allowed: string) => {
      await q.query(`CREATE TRIGGER ${table}_transitions BEFORE UPDATE ON ${table}
        FOR EACH ROW EXECUTE FUNCTION guard_transition('${mutable}', '${allowed}')`);
      await q.query(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
    };
    await guard('orders', 'status,refunded_at,refunded_by,refund_reason,refund_charged_creator', 'completed>refunded');
    await guard('inventory', 'revoked_at', '');
    await guard('sale_earnings', 'status,matured_at,reversed_at', 'pending>matured,pending>reversed,matured>reversed');
    await guard('credit_transfers', 'status', 'held_for_review>completed,held_for_review>rejected');
    await q.query(`CREATE TRIGGER creator_first_sales_append_only BEFORE UPDATE OR DELETE ON creator_first_sales
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE credit_transfers, creator_first_sales, sale_earnings, inventory, orders`);
    await q.query(`DROP FUNCTION guard_transition()`);
  }
}
