import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The reseller program's vetting (src/resellers, docs/resellers.md). An application carries the
 * automated check report made when it was accepted and moves along submitted →
 * awaiting_second_approval → approved (two different admins), or to rejected or withdrawn; a user has
 * at most one application in progress. An approved application makes (or renews) the user's row in
 * `resellers`, keyed by the user: active ⇄ suspended, either → revoked, and revoked → active only by a
 * new approved application. Rows are history: only the listed columns change, along those edges.
 */
export class Resellers1763900020000 implements MigrationInterface {
  name = 'Resellers1763900020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE reseller_applications (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id),
      status text NOT NULL CHECK (status IN ('submitted', 'awaiting_second_approval', 'approved', 'rejected', 'withdrawn')),
      business_name text NOT NULL CHECK (length(business_name) BETWEEN 1 AND 120),
      regions text[] NOT NULL CHECK (cardinality(regions) BETWEEN 1 AND 50),
      payment_methods text[] NOT NULL CHECK (cardinality(payment_methods) BETWEEN 1 AND 20),
      expected_monthly_volume bigint NOT NULL CHECK (expected_monthly_volume > 0),
      contact text NOT NULL CHECK (length(contact) BETWEEN 1 AND 500),
      check_report jsonb NOT NULL,
      fraud_decision_id uuid,
      first_approved_by uuid REFERENCES users(id),
      first_approval_note text,
      first_approved_at timestamptz,
      decided_by uuid REFERENCES users(id),
      decision_note text,
      decided_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT reseller_applications_not_own CHECK (first_approved_by <> user_id AND decided_by <> user_id),
      CONSTRAINT reseller_applications_four_eyes CHECK (status <> 'approved' OR decided_by <> first_approved_by)
    )`);
    await q.query(`CREATE UNIQUE INDEX reseller_applications_one_open ON reseller_applications (user_id)
      WHERE status IN ('submitted', 'awaiting_second_approval')`);
    await q.query(`CREATE INDEX reseller_applications_by_status ON reseller_applications (status, created_at, id)`);
    await q.query(`CREATE INDEX reseller_applications_by_user ON reseller_applications (user_id, created_at)`);
    await q.query(`CREATE TRIGGER reseller_applications_transitions BEFORE UPDATE ON reseller_applications
      FOR EACH ROW EXECUTE FUNCTION guard_transition(
        'status,first_approved_by,first_approval_note,first_approved_at,decided_by,decision_note,decided_at,updated_at',
        'submitted>awaiting_second_approval,awaiting_second_approval>approved,submitted>rejected,awaiting_second_approval>rejected,submitted>withdrawn,awaiting_second_approval>withdrawn')`);
    await q.query(`CREATE TRIGGER reseller_applications_no_delete BEFORE DELETE ON reseller_applications
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);

    await q.query(`CREATE TABLE resellers (
      user_id uuid PRIMARY KEY REFERENCES users(id),
      application_id uuid NOT NULL REFERENCES reseller_applications(id),
      status text NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
      display_name text NOT NULL,
      regions text[] NOT NULL,
      payment_methods text[] NOT NULL,
      approved_at timestamptz NOT NULL,
      probation_ends_at timestamptz NOT NULL,
      vetting_due_at timestamptz NOT NULL,
      last_order_at timestamptz,
      status_reason text,
      status_changed_at timestamptz NOT NULL,
      status_changed_by uuid REFERENCES users(id),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await q.query(`CREATE INDEX resellers_by_status ON resellers (status, user_id)`);
    await q.query(`CREATE TRIGGER resellers_transitions BEFORE UPDATE ON resellers
      FOR EACH ROW EXECUTE FUNCTION guard_transition(
        'application_id,status,display_name,regions,payment_methods,approved_at,probation_ends_at,vetting_due_at,last_order_at,status_reason,status_changed_at,status_changed_by,updated_at',
        'active>suspended,suspended>active,active>revoked,suspended>revoked,revoked>active')`);
    await q.query(`CREATE TRIGGER resellers_no_delete BEFORE DELETE ON resellers FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE resellers`);
    await q.query(`DROP TABLE reseller_applications`);
  }
}
