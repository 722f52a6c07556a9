import { MigrationInterface, QueryRunner } from 'typeorm';

export class Identity1763900001000 implements MigrationInterface {
  name = 'Identity1763900001000';

  async up(q: QueryRunner): Promise<void> {
    // A CHECK cannot hold a subquery, so the role rules live in an immutable function.
    await q.query(`CREATE FUNCTION user_roles_valid(r text[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
      SELECT r <@ ARRAY['buyer', 'creator', 'reseller', 'admin']::text[]
         AND 'buyer' = ANY (r)
         AND cardinality(r) = (SELECT count(DISTINCT x) FROM unnest(r) AS x)
    $$`);

    await q.query(`CREATE TABLE users (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      email citext NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254 AND position('@' IN email) > 1),
      display_name text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 100),
      password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
      roles text[] NOT NULL DEFAULT '{buyer}' CHECK (user_roles_valid(roles)),
      email_verified_at timestamptz,
      created_at timestamptz NOT NULL,
      password_changed_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT users_email_key UNIQUE (email)
    )`);
    await q.query(`CREATE INDEX users_admins ON users (id) WHERE 'admin' = ANY (roles)`);

    // A session is one refresh-token family: revoking it ends every token of the family at once.
    await q.query(`CREATE TABLE sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id),
      created_at timestamptz NOT NULL,
      last_used_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      reauthenticated_at timestamptz,
      ip inet,
      user_agent text CHECK (char_length(user_agent) <= 500),
      revoked_at timestamptz,
      revoked_reason text CHECK (revoked_reason IN
        ('logout', 'revoked_by_user', 'password_change', 'password_reset', 'refresh_token_reuse', 'admin')),
      CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL)),
      CHECK (expires_at > created_at)
    )`);
    await q.query(`CREATE INDEX sessions_user_active ON sessions (user_id, created_at DESC) WHERE revoked_at IS NULL`);

    await q.query(`CREATE TABLE refresh_tokens (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      session_id uuid NOT NULL REFERENCES sessions (id),
      token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      rotated_at timestamptz,
      replaced_by uuid REFERENCES refresh_tokens (id) DEFERRABLE INITIALLY DEFERRED,
      CONSTRAINT refresh_tokens_hash_key UNIQUE (token_hash),
      CHECK ((rotated_at IS NULL) = (replaced_by IS NULL)),
      CHECK (expires_at > created_at)
    )`);
    // At most one live token per family: a rotation must retire the old token in the same transaction.
    await q.query(`CREATE UNIQUE INDEX refresh_tokens_one_live ON refresh_tokens (session_id) WHERE rotated_at IS NULL`);

    // Email-verification and password-reset tokens: stored hashed, expiring, single use.
    await q.query(`CREATE TABLE user_tokens (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users (id),
      purpose text NOT NULL CHECK (purpose IN ('email_verification', 'password_reset')),
      token_hash bytea NOT NULL CHECK (length(token_hash) = 32),
      email citext NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      CONSTRAINT user_tokens_hash_key UNIQUE (token_hash),
      CHECK (expires_at > created_at)
    )`);
    await q.query(`CREATE INDEX user_tokens_user ON user_tokens (user_id, purpose) WHERE used_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE user_tokens, refresh_tokens, sessions, users`);
    await q.query(`DROP FUNCTION user_roles_valid(text[])`);
  }
}
