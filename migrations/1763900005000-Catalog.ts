import { MigrationInterface, QueryRunner } from 'typeorm';

/** Creators and listings (src/catalog). */
export class Catalog1763900005000 implements MigrationInterface {
  name = 'Catalog1763900005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE creators (
      user_id uuid PRIMARY KEY REFERENCES users(id),
      created_at timestamptz NOT NULL
    )`);

    await q.query(`CREATE TABLE listings (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      creator_id uuid NOT NULL REFERENCES creators(user_id),
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
      description text NOT NULL CHECK (length(description) <= 5000),
      category text NOT NULL CHECK (category ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
      profit bigint NOT NULL CHECK (profit >= 0),
      parent_listing_id uuid REFERENCES listings(id),
      -- root first, the parent last; fixed at creation
      ancestor_ids uuid[] NOT NULL DEFAULT '{}',
      derivation_cost bigint NOT NULL CHECK (derivation_cost >= 0),
      platform_fee bigint NOT NULL CHECK (platform_fee >= 0),
      price bigint NOT NULL,
      status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'pending_review', 'published', 'delisted', 'rejected')),
      submission_fee_asset text CHECK (submission_fee_asset IN ('CREDIT', 'DEV_TOKEN')),
      submission_fee bigint CHECK (submission_fee >= 0),
      moderation_note text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      submitted_at timestamptz,
      published_at timestamptz,
      closed_at timestamptz,
      search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, title), 'A') || setweight(to_tsvector('english'::regconfig, description), 'B')
      ) STORED,
      CONSTRAINT listings_price_formula CHECK (price = derivation_cost + profit + platform_fee),
      CONSTRAINT listings_chain_ends_at_parent CHECK (
        CASE WHEN parent_listing_id IS NULL THEN cardinality(ancestor_ids) = 0
             ELSE ancestor_ids[cardinality(ancestor_ids)] = parent_listing_id END),
      CONSTRAINT listings_submitted CHECK ((status = 'draft') = (submitted_at IS NULL) AND (status = 'draft') = (submission_fee_asset IS NULL)),
      CONSTRAINT listings_published_at CHECK ((status IN ('published', 'delisted')) = (published_at IS NOT NULL))
    )`);

    // Browse and search only ever read published listings, newest first: partial indexes keep them small.
    await q.query(`CREATE INDEX listings_published ON listings (published_at DESC, id DESC) WHERE status = 'published'`);
    await q.query(`CREATE INDEX listings_published_category ON listings (category, published_at DESC, id DESC) WHERE status = 'published'`);
    await q.query(
      `CREATE INDEX listings_published_creator ON listings (creator_id, published_at DESC, id DESC) WHERE status = 'published'`,
    );
    await q.query(`CREATE INDEX listings_search ON listings USING gin (search) WHERE status = 'published'`);
    await q.query(`CREATE INDEX listings_by_creator ON listings (creator_id, created_at DESC, id DESC)`);

    // The derivation chain and price components are checked on insert and frozen afterwards; the
    // status only moves along the listing state machine (src/catalog/state-machine.ts, same pairs).
    await q.query(`CREATE FUNCTION listings_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        parent listings%ROWTYPE;
        ancestors_profit bigint;
      BEGIN
        IF TG_OP = 'INSERT' THEN
          IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'a listing starts as a draft' USING ERRCODE = 'check_violation';
          END IF;
          IF NEW.parent_listing_id IS NOT NULL THEN
            SELECT * INTO parent FROM listings WHERE id = NEW.parent_listing_id FOR SHARE;
            IF parent.status <> 'published' OR NEW.ancestor_ids <> parent.ancestor_ids || parent.id THEN
              RAISE EXCEPTION 'a listing derives from a published parent and inherits its chain' USING ERRCODE = 'check_violation';
            END IF;
          END IF;
          SELECT coalesce(sum(profit), 0) INTO ancestors_profit FROM listings WHERE id = ANY (NEW.ancestor_ids);
          IF NEW.derivation_cost <> ancestors_profit THEN
            RAISE EXCEPTION 'derivation_cost must be the sum of the ancestors profits' USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END IF;
        IF (NEW.id, NEW.creator_id, NEW.parent_listing_id, NEW.ancestor_ids, NEW.derivation_cost, NEW.created_at)
           IS DISTINCT FROM (OLD.id, OLD.creator_id, OLD.parent_listing_id, OLD.ancestor_ids, OLD.derivation_cost, OLD.created_at) THEN
          RAISE EXCEPTION 'a listing''s identity and derivation chain never change' USING ERRCODE = 'check_violation';
        END IF;
        IF OLD.status <> 'draft' AND (NEW.title, NEW.description, NEW.category, NEW.profit, NEW.platform_fee)
           IS DISTINCT FROM (OLD.title, OLD.description, OLD.category, OLD.profit, OLD.platform_fee) THEN
          RAISE EXCEPTION 'only a draft can be edited' USING ERRCODE = 'check_violation';
        END IF;
        IF NEW.status <> OLD.status AND (OLD.status, NEW.status) NOT IN (
             ('draft', 'pending_review'), ('pending_review', 'published'), ('pending_review', 'rejected'), ('published', 'delisted')) THEN
          RAISE EXCEPTION 'listing status cannot go from % to %', OLD.status, NEW.status USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER listings_guard BEFORE INSERT OR UPDATE ON listings FOR EACH ROW EXECUTE FUNCTION listings_guard()`);
    await q.query(`CREATE TRIGGER listings_no_delete BEFORE DELETE ON listings FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE listings, creators`);
    await q.query(`DROP FUNCTION listings_guard()`);
  }
}
