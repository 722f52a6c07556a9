import { MigrationInterface, QueryRunner } from 'typeorm';

export class AccountGuard1763900003000 implements MigrationInterface {
  name = 'AccountGuard1763900003000';

  async up(q: QueryRunner): Promise<void> {
    // Keyed by the email as typed (existing or not), so a lockout reveals nothing about which accounts exist.
    await q.query(`CREATE TABLE login_lockouts (
      email citext PRIMARY KEY,
      consecutive_failures int NOT NULL CHECK (consecutive_failures >= 0),
      locked_until timestamptz,
      locked_until_reset boolean NOT NULL DEFAULT false,
      updated_at timestamptz NOT NULL
    )`);

    // Every password / second-factor check. 'pending' counts as a failure until the check reports back.
    await q.query(`CREATE TABLE login_attempts (
      id bigserial PRIMARY KEY,
      occurred_at timestamptz NOT NULL,
      purpose text NOT NULL CHECK (purpose IN ('login', 'reauth', 'password_change', 'step_up', 'totp')),
      email citext NOT NULL,
      user_id uuid REFERENCES users (id),
      ip inet NOT NULL,
      outcome text NOT NULL CHECK (outcome IN ('pending', 'success', 'failure'))
    )`);
    await q.query(`CREATE INDEX login_attempts_ip_failures ON login_attempts (ip, occurred_at) WHERE outcome <> 'success'`);
    await q.query(`CREATE INDEX login_attempts_user ON login_attempts (user_id, occurred_at) WHERE user_id IS NOT NULL`);

    await q.query(`CREATE TABLE devices (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id),
      token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
      created_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      last_ip inet,
      user_agent text CHECK (char_length(user_agent) <= 500),
      CONSTRAINT devices_token_key UNIQUE (token_hash)
    )`);
    await q.query(`CREATE INDEX devices_user ON devices (user_id)`);

    // Networks (/24 for IPv4, /48 for IPv6) the user has signed in from.
    await q.query(`CREATE TABLE known_networks (
      user_id uuid NOT NULL REFERENCES users (id),
      network cidr NOT NULL,
      first_seen_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, network)
    )`);

    await q.query(`CREATE TABLE step_up_challenges (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id),
      method text NOT NULL CHECK (method IN ('totp', 'email')),
      code_hash bytea CHECK (length(code_hash) = 32),
      device_token_ciphertext bytea,
      ip inet NOT NULL,
      user_agent text CHECK (char_length(user_agent) <= 500),
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      attempts int NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 5),
      completed_at timestamptz,
      CHECK ((method = 'email') = (code_hash IS NOT NULL)),
      CHECK (expires_at > created_at)
    )`);
    await q.query(`CREATE INDEX step_up_challenges_user ON step_up_challenges (user_id, created_at DESC)`);

    // The secret is AES-256-GCM ciphertext (key from config, user id as associated data): a dump alone reveals nothing.
    await q.query(`CREATE TABLE totp_credentials (
      user_id uuid PRIMARY KEY REFERENCES users (id),
      secret_ciphertext bytea NOT NULL CHECK (length(secret_ciphertext) > 29),
      created_at timestamptz NOT NULL,
      confirmed_at timestamptz,
      last_used_step bigint
    )`);

    await q.query(`CREATE TABLE cooling_periods (
      id bigserial PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id),
      reason text NOT NULL CHECK (reason IN ('password_reset', 'email_change', 'totp_disabled', 'new_device')),
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      CHECK (ends_at > starts_at)
    )`);
    await q.query(`CREATE INDEX cooling_periods_user ON cooling_periods (user_id, ends_at DESC)`);

    // Frozen while the row exists and unfreeze_at is null or still ahead.
    await q.query(`CREATE TABLE account_freezes (
      user_id uuid PRIMARY KEY REFERENCES users (id),
      frozen_at timestamptz NOT NULL,
      unfreeze_at timestamptz,
      CHECK (unfreeze_at IS NULL OR unfreeze_at > frozen_at)
    )`);

    await q.query(`CREATE TABLE account_holds (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id),
      reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
      placed_by uuid NOT NULL REFERENCES users (id),
      placed_at timestamptz NOT NULL,
      released_by uuid REFERENCES users (id),
      released_at timestamptz,
      release_reason text CHECK (char_length(release_reason) BETWEEN 1 AND 1000),
      CHECK ((released_at IS NULL) = (released_by IS NULL) AND (released_at IS NULL) = (release_reason IS NULL))
    )`);
    await q.query(`CREATE UNIQUE INDEX account_holds_one_active ON account_holds (user_id) WHERE released_at IS NULL`);

    await q.query(`CREATE TABLE security_events (
      id bigserial PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users (id),
      occurred_at timestamptz NOT NULL,
      kind text NOT NULL CHECK (kind IN (
        'new_device_login', 'step_up_required', 'account_locked', 'password_changed', 'password_reset',
        'email_changed', 'totp_enabled', 'totp_disabled', 'refresh_token_reuse', 'account_frozen',
        'unfreeze_requested', 'account_held', 'account_released')),
      ip inet,
      data jsonb NOT NULL DEFAULT '{}'
    )`);
    await q.query(`CREATE INDEX security_events_user ON security_events (user_id, id DESC)`);
    await q.query(`CREATE TRIGGER security_events_append_only BEFORE UPDATE OR DELETE ON security_events
      FOR EACH ROW EXECUTE FUNCTION reject_modification()`);
    await q.query(`CREATE TRIGGER security_events_no_truncate BEFORE TRUNCATE ON security_events
      FOR EACH STATEMENT EXECUTE FUNCTION reject_modification()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE security_events, account_holds, account_freezes, cooling_periods, totp_credentials,
      step_up_challenges, known_networks, devices, login_attempts, login_lockouts`);
  }
}
