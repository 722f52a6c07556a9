import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Wholesale purchases (src/payments/wholesale): token packages offered to resellers only, and purchases
 * whose credits are minted into the buyer's `reseller_stock` instead of `wallet`, at the wholesale price.
 * A reseller package never carries bonus PROMO (PROMO is never sold through resellers). A purchase keeps
 * where its credits go and the retail price it was discounted from; both are fixed once written. And
 * what its clawbacks turned into debt (`clawed_debt`), which a later grant of the same purchase (a
 * dispute won) repays first: the only debt reseller stock ever repays.
 */
export class PaymentsWholesale1763900021000 implements MigrationInterface {
  name = 'PaymentsWholesale1763900021000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE token_packages
      ADD COLUMN audience text NOT NULL DEFAULT 'public' CONSTRAINT token_packages_audience CHECK (audience IN ('public', 'reseller')),
      ADD CONSTRAINT token_packages_reseller_no_promo CHECK (audience = 'public' OR bonus_promo = 0)`);
    // The public list and the wholesale list each read one audience, cheapest first.
    await q.query(`DROP INDEX token_packages_listing`);
    await q.query(`CREATE INDEX token_packages_listing ON token_packages (audience, price_cents, id) WHERE active`);

    await q.query(`ALTER TABLE token_purchases
      ADD COLUMN destination text NOT NULL DEFAULT 'wallet'
        CONSTRAINT token_purchases_destination CHECK (destination IN ('wallet', 'reseller_stock')),
      ADD COLUMN retail_price_cents bigint,
      ADD COLUMN clawed_debt bigint NOT NULL DEFAULT 0 CONSTRAINT token_purchases_clawed_debt CHECK (clawed_debt BETWEEN 0 AND credits),
      ADD CONSTRAINT token_purchases_wholesale_terms CHECK (
        (destination = 'wallet' AND retail_price_cents IS NULL)
        OR (destination = 'reseller_stock' AND retail_price_cents >= price_cents AND bonus_promo = 0))`);
    await q.query(`CREATE FUNCTION token_purchase_destination_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (NEW.destination, NEW.retail_price_cents) IS DISTINCT FROM (OLD.destination, OLD.retail_price_cents) THEN
          RAISE EXCEPTION 'token purchase %: destination and retail price are fixed', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER token_purchases_destination_guard BEFORE UPDATE ON token_purchases
      FOR EACH ROW EXECUTE FUNCTION token_purchase_destination_guard()`);
    // PaymentsHistoryService.wholesaleCredited: a reseller's wholesale purchases.
    await q.query(`CREATE INDEX token_purchases_wholesale ON token_purchases (user_id) WHERE destination = 'reseller_stock'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX token_purchases_wholesale`);
    await q.query(`DROP TRIGGER token_purchases_destination_guard ON token_purchases`);
    await q.query(`DROP FUNCTION token_purchase_destination_guard()`);
    await q.query(`ALTER TABLE token_purchases DROP CONSTRAINT token_purchases_wholesale_terms,
      DROP COLUMN clawed_debt, DROP COLUMN retail_price_cents, DROP COLUMN destination`);
    await q.query(`DROP INDEX token_packages_listing`);
    await q.query(`CREATE INDEX token_packages_listing ON token_packages (price_cents, id) WHERE active`);
    await q.query(`ALTER TABLE token_packages DROP CONSTRAINT token_packages_reseller_no_promo, DROP COLUMN audience`);
  }
}
