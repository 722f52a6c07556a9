import { MigrationInterface, QueryRunner } from 'typeorm';

const EVENT_TYPES = [
  'signup',
  'login',
  'token_purchase',
  'payment_succeeded',
  'item_purchase',
  'credit_transfer',
  'reseller_application',
  'wholesale_purchase',
  'reseller_order_open',
  'reseller_order_confirm',
];
const LIST_TYPES = ['email', 'email_domain', 'ip', 'ip_cidr', 'device', 'card_fingerprint', 'user'];
const sqlList = (xs: string[]) => xs.map((x) => `'${x}'`).join(', ');
const ALL_EVENTS = `ARRAY[${sqlList(EVENT_TYPES)}]`;

/** The default rules (docs/fraud.md explains each); fixed ids so `down` and the docs can name them. */
const DEFAULT_RULES: {
  id: string;
  version: string;
  name: string;
  description: string;
  events: string[];
  condition: unknown;
  action: string;
  score: number;
}[] = [
  {
    id: '00000000-0000-4000-8000-00000000f001',
    version: '00000000-0000-4000-8000-00000001f001',
    name: 'block-listed',
    description: 'Block anything from a listed user, email domain, IP address or network, device or card.',
    events: EVENT_TYPES,
    condition: {
      or: [
        { in_list: ['user', { var: 'user.id' }] },
        { in_list: ['email', { var: 'user.email' }] },
        { in_list: ['email_domain', { var: 'user.emailDomain' }] },
        { in_list: ['ip', { var: 'ip.address' }] },
        { in_list: ['ip_cidr', { var: 'ip.address' }] },
        { in_list: ['device', { var: 'device.id' }] },
        { in_list: ['card_fingerprint', { var: 'card.fingerprint' }] },
      ],
    },
    action: 'BLOCK',
    score: 0,
  },
  {
    id: '00000000-0000-4000-8000-00000000f002',
    version: '00000000-0000-4000-8000-00000001f002',
    name: 'large-gift-from-young-account',
    description: 'Review credit gifts over 50,000 from accounts younger than 7 days.',
    events: ['credit_transfer'],
    condition: { and: [{ '>': [{ var: 'event.amount' }, 50000] }, { '<': [{ var: 'user.ageDays' }, 7] }] },
    action: 'REVIEW',
    score: 0,
  },
  {
    id: '00000000-0000-4000-8000-00000000f003',
    version: '00000000-0000-4000-8000-00000001f003',
    name: 'gift-to-new-linked-account',
    description: 'Review gifts to an account created in the last 24 h that shares the sender’s device or IP.',
    events: ['credit_transfer', 'item_purchase'],
    condition: {
      and: [
        { '!==': [{ var: 'recipient.ageDays' }, null] },
        { '<': [{ var: 'recipient.ageDays' }, 1] },
        { or: [{ var: 'recipient.sharesDevice' }, { var: 'recipient.sharesIp' }] },
      ],
    },
    action: 'REVIEW',
    score: 0,
  },
  {
    id: '00000000-0000-4000-8000-00000000f004',
    version: '00000000-0000-4000-8000-00000001f004',
    name: 'token-purchase-velocity',
    description: 'Block more than 5 token purchases an hour per user.',
    events: ['token_purchase'],
    condition: { '>': [{ var: 'user.events1h' }, 5] },
    action: 'BLOCK',
    score: 0,
  },
  {
    id: '00000000-0000-4000-8000-00000000f005',
    version: '00000000-0000-4000-8000-00000001f005',
    name: 'many-cards-per-day',
    description: 'Block more than 3 distinct cards per user per day.',
    events: ['payment_succeeded'],
    condition: { '>': [{ var: 'user.cards24h' }, 3] },
    action: 'BLOCK',
    score: 0,
  },
  {
    id: '00000000-0000-4000-8000-00000000f006',
    version: '00000000-0000-4000-8000-00000001f006',
    name: 'card-country-differs-from-ip',
    description: 'Review a payment whose card country differs from the country of the buyer’s IP address.',
    events: ['payment_succeeded'],
    condition: {
      and: [
        { '!==': [{ var: 'card.country' }, null] },
        { '!==': [{ var: 'ip.country' }, null] },
        { '!==': [{ var: 'card.country' }, { var: 'ip.country' }] },
      ],
    },
    action: 'REVIEW',
    score: 0,
  },
  {
    id: '00000000-0000-4000-8000-00000000f007',
    version: '00000000-0000-4000-8000-00000001f007',
    name: 'stripe-risk-elevated',
    description: 'Review a payment Stripe scores 65 or more (and under 75).',
    events: ['payment_succeeded'],
    condition: { and: [{ '>=': [{ var: 'payment.riskScore' }, 65] }, { '<': [{ var: 'payment.riskScore' }, 75] }] },
    action: 'REVIEW',
    score: 0,
  },
  {
    id: '00000000-0000-4000-8000-00000000f008',
    version: '00000000-0000-4000-8000-00000001f008',
    name: 'stripe-risk-high',
    description: 'Block a payment Stripe scores 75 or more.',
    events: ['payment_succeeded'],
    condition: { '>=': [{ var: 'payment.riskScore' }, 75] },
    action: 'BLOCK',
    score: 0,
  },
  {
    id: '00000000-0000-4000-8000-00000000f009',
    version: '00000000-0000-4000-8000-00000001f009',
    name: 'new-device-and-network-after-reset',
    description: 'Review a login from a new device and a new network within an hour of a password reset.',
    events: ['login'],
    condition: {
      and: [
        { var: 'device.isNew' },
        { var: 'network.isNew' },
        { '!==': [{ var: 'user.minutesSincePasswordReset' }, null] },
        { '<=': [{ var: 'user.minutesSincePasswordReset' }, 60] },
      ],
    },
    action: 'REVIEW',
    score: 0,
  },
];

/**
 * The fraud engine's tables: versioned rules, typed lists, decisions (every evaluated event with the
 * features it was decided on: the velocity features and backtests read them back), the review queue,
 * and labels (payments' `fraud_outcomes` renamed, with the admins' confirmed takeovers and frauds).
 * Installs the default rules, and the account guard's session → device link. Self-contained: `down` restores migration 1763900004000's fraud_outcomes.
 */
export class Fraud1763900014000 implements MigrationInterface {
  name = 'Fraud1763900014000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE fraud_rules (
      id uuid PRIMARY KEY,
      name text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
      current_version int NOT NULL CHECK (current_version >= 1),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL)`);
    await q.query(`CREATE TABLE fraud_rule_versions (
      id uuid PRIMARY KEY,
      rule_id uuid NOT NULL REFERENCES fraud_rules(id),
      version int NOT NULL CHECK (version >= 1),
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
      description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 1000),
      event_types text[] NOT NULL CHECK (cardinality(event_types) >= 1 AND event_types <@ ${ALL_EVENTS}),
      condition jsonb NOT NULL,
      action text NOT NULL CHECK (action IN ('ALLOW', 'REVIEW', 'BLOCK')),
      score int NOT NULL CHECK (score BETWEEN -100 AND 100),
      mode text NOT NULL CHECK (mode IN ('ACTIVE', 'SHADOW', 'DISABLED')),
      created_by uuid REFERENCES users(id),
      created_at timestamptz NOT NULL,
      UNIQUE (rule_id, version))`);
    await q.query(`CREATE FUNCTION fraud_rule_versions_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'fraud_rule_versions is append-only' USING ERRCODE = 'P0001'; END $$`);
    await q.query(`CREATE TRIGGER fraud_rule_versions_append_only BEFORE UPDATE OR DELETE ON fraud_rule_versions
      FOR EACH ROW EXECUTE FUNCTION fraud_rule_versions_append_only()`);

    await q.query(`CREATE TABLE fraud_list_entries (
      id uuid PRIMARY KEY,
      list_type text NOT NULL CHECK (list_type IN (${sqlList(LIST_TYPES)})),
      value text NOT NULL CHECK (char_length(value) BETWEEN 1 AND 320),
      reason text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 1000),
      expires_at timestamptz,
      created_by uuid REFERENCES users(id),
      created_at timestamptz NOT NULL,
      removed_by uuid REFERENCES users(id),
      removed_at timestamptz,
      CHECK (list_type <> 'ip_cidr' OR value::cidr IS NOT NULL),
      CHECK (list_type <> 'ip' OR value::inet IS NOT NULL))`);
    await q.query(`CREATE UNIQUE INDEX fraud_list_entries_live ON fraud_list_entries (list_type, value) WHERE removed_at IS NULL`);

    // No foreign key to users: a blocked sign-up's user never exists, and decisions outlive anything.
    await q.query(`CREATE TABLE fraud_decisions (
      id uuid PRIMARY KEY,
      event_type text NOT NULL CHECK (event_type = ANY (${ALL_EVENTS})),
      user_id uuid,
      subject_id text,
      ip inet,
      device_id uuid,
      card_fingerprint text,
      amount bigint,
      outcome text NOT NULL CHECK (outcome IN ('ALLOW', 'REVIEW', 'BLOCK')),
      score int NOT NULL,
      features jsonb NOT NULL,
      rules jsonb NOT NULL,
      matched_rule_ids uuid[] NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL)`);
    // The velocity features read each subject's most recent decisions through these (decisions.repository.ts).
    await q.query(
      `CREATE INDEX fraud_decisions_user ON fraud_decisions (user_id, event_type, created_at) INCLUDE (amount, card_fingerprint)`,
    );
    await q.query(`CREATE INDEX fraud_decisions_user_blocks ON fraud_decisions (user_id, created_at) WHERE outcome = 'BLOCK'`);
    await q.query(`CREATE INDEX fraud_decisions_ip ON fraud_decisions (ip, created_at) INCLUDE (user_id) WHERE ip IS NOT NULL`);
    await q.query(
      `CREATE INDEX fraud_decisions_device ON fraud_decisions (device_id, created_at) INCLUDE (user_id) WHERE device_id IS NOT NULL`,
    );
    await q.query(`CREATE INDEX fraud_decisions_card ON fraud_decisions (card_fingerprint, created_at) INCLUDE (user_id)
      WHERE card_fingerprint IS NOT NULL`);
    await q.query(`CREATE INDEX fraud_decisions_created ON fraud_decisions USING brin (created_at) WITH (autosummarize = on)`);
    await q.query(`CREATE INDEX fraud_decisions_matched ON fraud_decisions USING gin (matched_rule_ids)
      WHERE cardinality(matched_rule_ids) > 0`);

    await q.query(`CREATE TABLE fraud_reviews (
      id uuid PRIMARY KEY,
      decision_id uuid NOT NULL UNIQUE REFERENCES fraud_decisions(id),
      event_type text NOT NULL CHECK (event_type = ANY (${ALL_EVENTS})),
      user_id uuid NOT NULL,
      subject_id text NOT NULL,
      status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'rejected')),
      created_at timestamptz NOT NULL,
      escalated_at timestamptz,
      decided_by uuid REFERENCES users(id),
      decided_at timestamptz,
      note text CHECK (char_length(note) <= 2000),
      UNIQUE (event_type, subject_id),
      CHECK ((status = 'open') = (decided_at IS NULL)))`);
    await q.query(`CREATE INDEX fraud_reviews_queue ON fraud_reviews (created_at) WHERE status = 'open'`);
    await q.query(`CREATE INDEX fraud_reviews_user ON fraud_reviews (user_id, created_at)`);

    // The account guard's record of which device a session was opened on (`device.*` features).
    await q.query(`CREATE TABLE session_devices (
      session_id uuid PRIMARY KEY REFERENCES sessions(id),
      device_id uuid NOT NULL REFERENCES devices(id))`);

    await q.query(`ALTER TABLE fraud_outcomes RENAME TO fraud_labels`);
    await q.query(`ALTER TABLE fraud_labels DROP CONSTRAINT fraud_outcomes_purchase_id_fkey`);
    await q.query(`ALTER TABLE fraud_labels RENAME COLUMN purchase_id TO subject_id`);
    await q.query(`ALTER TABLE fraud_labels ALTER COLUMN subject_id TYPE text`);
    await q.query(`ALTER TABLE fraud_labels DROP CONSTRAINT fraud_outcomes_kind`);
    await q.query(`ALTER TABLE fraud_labels ADD CONSTRAINT fraud_labels_kind
      CHECK (kind IN ('chargeback', 'dispute_lost', 'confirmed_takeover', 'confirmed_fraud'))`);
    await q.query(`ALTER TABLE fraud_labels ADD COLUMN created_by uuid REFERENCES users(id)`);
    await q.query(`ALTER TABLE fraud_labels ADD COLUMN note text CHECK (char_length(note) <= 2000)`);
    await q.query(`CREATE INDEX fraud_labels_user ON fraud_labels (user_id, kind)`);

    for (const r of DEFAULT_RULES) {
      await q.query(`INSERT INTO fraud_rules (id, name, current_version, created_at, updated_at) VALUES ($1, $2, 1, now(), now())`, [
        r.id,
        r.name,
      ]);
      await q.query(
        `INSERT INTO fraud_rule_versions (id, rule_id, version, name, description, event_types, condition, action, score, mode, created_at)
         VALUES ($1, $2, 1, $3, $4, $5, $6::jsonb, $7, $8, 'ACTIVE', now())`,
        [r.version, r.id, r.name, r.description, r.events, JSON.stringify(r.condition), r.action, r.score],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX fraud_labels_user`);
    await q.query(`DELETE FROM fraud_labels WHERE kind IN ('confirmed_takeover', 'confirmed_fraud')`);
    await q.query(`ALTER TABLE fraud_labels DROP COLUMN note`);
    await q.query(`ALTER TABLE fraud_labels DROP COLUMN created_by`);
    await q.query(`ALTER TABLE fraud_labels DROP CONSTRAINT fraud_labels_kind`);
    await q.query(
      `ALTER TABLE fraud_labels ADD CONSTRAINT fraud_outcomes_kind CHECK (kind = ANY (ARRAY['chargeback'::text, 'dispute_lost'::text]))`,
    );
    await q.query(`ALTER TABLE fraud_labels ALTER COLUMN subject_id TYPE uuid USING subject_id::uuid`);
    await q.query(`ALTER TABLE fraud_labels RENAME COLUMN subject_id TO purchase_id`);
    await q.query(
      `ALTER TABLE fraud_labels ADD CONSTRAINT fraud_outcomes_purchase_id_fkey FOREIGN KEY (purchase_id) REFERENCES token_purchases(id)`,
    );
    await q.query(`ALTER TABLE fraud_labels RENAME TO fraud_outcomes`);
    await q.query(`DROP TABLE session_devices`);
    await q.query(`DROP TABLE fraud_reviews`);
    await q.query(`DROP TABLE fraud_decisions`);
    await q.query(`DROP TABLE fraud_list_entries`);
    await q.query(`DROP TABLE fraud_rule_versions`);
    await q.query(`DROP FUNCTION fraud_rule_versions_append_only()`);
    await q.query(`DROP TABLE fraud_rules`);
  }
}
