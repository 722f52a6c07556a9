import { MigrationInterface, QueryRunner } from 'typeorm';

export class Foundation1763900000000 implements MigrationInterface {
  name = 'Foundation1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS citext`);
    await q.query(`CREATE EXTENSION IF NOT EXISTS pgcrypto`);

    // Shared by every process: the development offset of the business clock.
    await q.query(`CREATE TABLE business_clock (
      id int PRIMARY KEY CHECK (id = 1),
      offset_ms bigint NOT NULL DEFAULT 0
    )`);
    await q.query(`INSERT INTO business_clock (id, offset_ms) VALUES (1, 0)`);

    await q.query(`CREATE TABLE idempotency_keys (
      user_id uuid NOT NULL,
      key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
      request_hash text NOT NULL,
      status text NOT NULL CHECK (status IN ('in_progress', 'completed')),
      response_status int,
      response_body jsonb,
      locked_until timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      PRIMARY KEY (user_id, key)
    )`);

    await q.query(`CREATE TABLE outbox_messages (
      id bigserial PRIMARY KEY,
      kind text NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      available_at timestamptz NOT NULL DEFAULT now(),
      attempts int NOT NULL DEFAULT 0,
      sent_at timestamptz,
      last_error text
    )`);
    await q.query(`CREATE INDEX outbox_messages_pending ON outbox_messages (id) WHERE sent_at IS NULL`);

    await q.query(`CREATE TABLE dev_mailbox (
      id bigserial PRIMARY KEY,
      recipient citext NOT NULL,
      subject text NOT NULL,
      body text NOT NULL,
      data jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE INDEX dev_mailbox_recipient ON dev_mailbox (recipient, id DESC)`);

    await q.query(`CREATE TABLE audit_log (
      id bigserial PRIMARY KEY,
      occurred_at timestamptz NOT NULL,
      actor_id uuid,
      action text NOT NULL,
      subject_type text,
      subject_id text,
      reason text,
      data jsonb NOT NULL DEFAULT '{}'
    )`);
    await q.query(`CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, id DESC)`);

    // Shared by append-only tables: rejects UPDATE and DELETE whoever runs them.
    await q.query(`CREATE FUNCTION reject_modification() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
      END $$`);
    await q.query(`CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
    await q.query(`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_log, dev_mailbox, outbox_messages, idempotency_keys, business_clock`);
    await q.query(`DROP FUNCTION reject_modification()`);
  }
}
