import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several holds per account. An admin hold has no reference and always an admin as actor (at most one
 * active per account, as before); a system hold (e.g. `dispute:dp_123`) is named by its reference, may
 * have no actor, and a reference names one hold for good. The account is on hold while any is active.
 * A hold is never deleted and changes once: when it is released.
 */
export class AccountGuardSystemHolds1763900007000 implements MigrationInterface {
  name = 'AccountGuardSystemHolds1763900007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_holds
      ADD COLUMN reference text CONSTRAINT account_holds_reference_format CHECK (reference ~ '^[a-z][a-z_]*:[!-~]{1,255}$'),
      ALTER COLUMN placed_by DROP NOT NULL,
      DROP CONSTRAINT account_holds_check,
      ADD CONSTRAINT account_holds_admin_actor CHECK (reference IS NOT NULL OR placed_by IS NOT NULL),
      ADD CONSTRAINT account_holds_release CHECK (
        (released_at IS NULL) = (release_reason IS NULL) AND (released_at IS NOT NULL OR released_by IS NULL)),
      ADD CONSTRAINT account_holds_reference_once UNIQUE (user_id, reference)`);
    await q.query(`DROP INDEX account_holds_one_active`);
    await q.query(
      `CREATE UNIQUE INDEX account_holds_one_admin_active ON account_holds (user_id) WHERE released_at IS NULL AND reference IS NULL`,
    );
    await q.query(`CREATE INDEX account_holds_active ON account_holds (user_id) WHERE released_at IS NULL`);

    await q.query(`CREATE FUNCTION account_hold_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          RAISE EXCEPTION 'account holds are never deleted' USING ERRCODE = 'restrict_violation';
        END IF;
        IF OLD.released_at IS NOT NULL
           OR (NEW.id, NEW.user_id, NEW.reference, NEW.reason, NEW.placed_by, NEW.placed_at)
              IS DISTINCT FROM (OLD.id, OLD.user_id, OLD.reference, OLD.reason, OLD.placed_by, OLD.placed_at) THEN
          RAISE EXCEPTION 'account hold %: only the release of an active hold can change it', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER account_holds_guard BEFORE UPDATE OR DELETE ON account_holds
      FOR EACH ROW EXECUTE FUNCTION account_hold_guard()`);
    await q.query(`CREATE TRIGGER account_holds_no_truncate BEFORE TRUNCATE ON account_holds
      FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER account_holds_no_truncate ON account_holds`);
    await q.query(`DROP TRIGGER account_holds_guard ON account_holds`);
    await q.query(`DROP FUNCTION account_hold_guard()`);
    // The old schema cannot express system holds: they go.
    await q.query(`DELETE FROM account_holds WHERE reference IS NOT NULL`);
    await q.query(`DROP INDEX account_holds_active`);
    await q.query(`DROP INDEX account_holds_one_admin_active`);
    await q.query(`CREATE UNIQUE INDEX account_holds_one_active ON account_holds (user_id) WHERE released_at IS NULL`);
    await q.query(`ALTER TABLE account_holds
      DROP CONSTRAINT account_holds_reference_once,
      DROP CONSTRAINT account_holds_release,
      DROP CONSTRAINT account_holds_admin_actor,
      DROP COLUMN reference,
      ALTER COLUMN placed_by SET NOT NULL,
      ADD CONSTRAINT account_holds_check CHECK (
        (released_at IS NULL) = (released_by IS NULL) AND (released_at IS NULL) = (release_reason IS NULL))`);
  }
}
