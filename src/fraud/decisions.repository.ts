import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../database/sql';
import { DAY_MS, HOUR_MS } from '../common/time';
import { FeatureValues, FraudAction, FraudDecision, FraudEventType, RuleResult } from './fraud.types';

/**
 * Velocity features read at most this many of a subject's most recent decisions per window scan, so a
 * busy IP address costs the same as a quiet one: a count that reaches it reads as this number.
 */
export const VELOCITY_SCAN_CAP = 200;

export interface VelocityQuery {
  userId: string;
  eventType: FraudEventType;
  ip: string | null;
  deviceId: string | null;
  cardFingerprint: string | null;
  recipientId: string | null;
}

export interface VelocityRow {
  user_events_1h: number;
  user_events_24h: number;
  user_events_7d: number;
  user_amount_1h: string;
  user_amount_24h: string;
  user_amount_7d: string;
  user_median_30d: string | null;
  user_cards_24h: string[];
  user_blocks_90d: number;
  ip_events_1h: number | null;
  ip_events_24h: number | null;
  ip_events_7d: number | null;
  ip_accounts_24h: string[] | null;
  device_events_1h: number | null;
  device_events_24h: number | null;
  device_events_7d: number | null;
  device_accounts_24h: string[] | null;
  card_events_1h: number | null;
  card_events_24h: number | null;
  card_events_7d: number | null;
  card_accounts_7d: string[] | null;
  recipient_shares_device: boolean | null;
  recipient_shares_ip: boolean | null;
  chargebacks: number;
  disputes_lost: number;
  confirmed_bad: boolean;
}

export interface NewDecision {
  id: string;
  eventType: FraudEventType;
  userId: string;
  subjectId: string;
  ip: string | null;
  deviceId: string | null;
  cardFingerprint: string | null;
  amount: bigint | null;
  outcome: FraudAction;
  score: number;
  features: FeatureValues;
  rules: RuleResult[];
  matchedRuleIds: string[];
  createdAt: Date;
}

export interface DecisionRow {
  id: string;
  event_type: FraudEventType;
  user_id: string;
  subject_id: string;
  outcome: FraudAction;
  score: number;
  features: FeatureValues;
  rules: RuleResult[];
  created_at: Date;
}

export function toDecision(r: DecisionRow): FraudDecision {
  return {
    id: r.id,
    eventType: r.event_type,
    userId: r.user_id,
    subjectId: r.subject_id,
    outcome: r.outcome,
    score: r.score,
    features: r.features,
    rules: r.rules,
    createdAt: r.created_at,
  };
}

/** A decision without its feature values, for lists. */
export type DecisionSummaryRow = Omit<DecisionRow, 'features'>;

export interface DecisionListQuery {
  userId: string | null;
  eventType: FraudEventType | null;
  outcome: FraudAction | null;
  /** Decisions this rule (any version) matched. */
  ruleId: string | null;
  /** (created_at, id) of the last item of the page before: newest first. */
  before: { createdAt: string; id: string } | null;
  /** Only decisions after this time (a window the BRIN index on created_at narrows to). */
  since: Date | null;
  limit: number;
}

/** Counts over one subject's most recent decisions (any event type), by window. */
const subjectScan = (column: string, param: string, alias: string, accountsWindow: string) => `
  LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE s.created_at > $h1)::int AS e1h,
           count(*) FILTER (WHERE s.created_at > $h24)::int AS e24h,
           count(*)::int AS e7d,
           array_agg(DISTINCT s.user_id::text) FILTER (WHERE s.created_at > ${accountsWindow}) AS accounts
      FROM (SELECT d.created_at, d.user_id FROM fraud_decisions d
             WHERE d.${column} = ${param} AND d.created_at > $d7
             ORDER BY d.created_at DESC LIMIT ${VELOCITY_SCAN_CAP}) s
  ) ${alias} ON ${param} IS NOT NULL`;

const VELOCITY_SQL = `
  SELECT COALESCE(u.e1h, 0) AS user_events_1h, COALESCE(u.e24h, 0) AS user_events_24h, COALESCE(u.e7d, 0) AS user_events_7d,
         COALESCE(u.a1h, 0)::text AS user_amount_1h, COALESCE(u.a24h, 0)::text AS user_amount_24h, COALESCE(u.a7d, 0)::text AS user_amount_7d,
         u.median30d::text AS user_median_30d, COALESCE(u.cards24h, '{}') AS user_cards_24h,
         (SELECT count(*)::int FROM fraud_decisions b WHERE b.user_id = q.user_id AND b.outcome = 'BLOCK' AND b.created_at > $d90) AS user_blocks_90d,
         i.e1h AS ip_events_1h, i.e24h AS ip_events_24h, i.e7d AS ip_events_7d, i.accounts AS ip_accounts_24h,
         dv.e1h AS device_events_1h, dv.e24h AS device_events_24h, dv.e7d AS device_events_7d, dv.accounts AS device_accounts_24h,
         c.e1h AS card_events_1h, c.e24h AS card_events_24h, c.e7d AS card_events_7d, c.accounts AS card_accounts_7d,
         CASE WHEN q.recipient_id IS NOT NULL THEN EXISTS (
           SELECT 1 FROM fraud_decisions r WHERE r.user_id = q.recipient_id AND r.created_at > $d30 AND r.device_id IS NOT NULL
              AND (r.device_id = q.device_id OR r.device_id IN (
                SELECT s.device_id FROM fraud_decisions s WHERE s.user_id = q.user_id AND s.created_at > $d30 AND s.device_id IS NOT NULL
                 LIMIT ${VELOCITY_SCAN_CAP})))
         END AS recipient_shares_device,
         CASE WHEN q.recipient_id IS NOT NULL THEN EXISTS (
           SELECT 1 FROM fraud_decisions r WHERE r.user_id = q.recipient_id AND r.created_at > $d30 AND r.ip IS NOT NULL
              AND (r.ip = q.ip OR r.ip IN (
                SELECT s.ip FROM fraud_decisions s WHERE s.user_id = q.user_id AND s.created_at > $d30 AND s.ip IS NOT NULL
                 LIMIT ${VELOCITY_SCAN_CAP})))
         END AS recipient_shares_ip,
         l.chargebacks, l.disputes_lost, l.confirmed_bad
    FROM unnest($1::uuid[], $2::text[], $3::inet[], $4::uuid[], $5::text[], $6::uuid[])
         WITH ORDINALITY AS q(user_id, event_type, ip, device_id, card, recipient_id, n)
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE s.created_at > $h1)::int AS e1h,
             count(*) FILTER (WHERE s.created_at > $h24)::int AS e24h,
             count(*) FILTER (WHERE s.created_at > $d7)::int AS e7d,
             sum(s.amount) FILTER (WHERE s.created_at > $h1) AS a1h,
             sum(s.amount) FILTER (WHERE s.created_at > $h24) AS a24h,
             sum(s.amount) FILTER (WHERE s.created_at > $d7) AS a7d,
             percentile_disc(0.5) WITHIN GROUP (ORDER BY s.amount) AS median30d,
             array_agg(DISTINCT s.card_fingerprint) FILTER (WHERE s.created_at > $h24 AND s.card_fingerprint IS NOT NULL) AS cards24h
        FROM (SELECT d.created_at, d.amount, d.card_fingerprint FROM fraud_decisions d
               WHERE d.user_id = q.user_id AND d.event_type = q.event_type AND d.created_at > $d30
               ORDER BY d.created_at DESC LIMIT ${VELOCITY_SCAN_CAP}) s
    ) u ON true
    ${subjectScan('ip', 'q.ip', 'i', '$h24')}
    ${subjectScan('device_id', 'q.device_id', 'dv', '$h24')}
    ${subjectScan('card_fingerprint', 'q.card', 'c', '$d7')}
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE f.kind = 'chargeback')::int AS chargebacks,
             count(*) FILTER (WHERE f.kind = 'dispute_lost')::int AS disputes_lost,
             bool_or(f.kind IN ('confirmed_takeover', 'confirmed_fraud')) IS TRUE AS confirmed_bad
        FROM fraud_labels f WHERE f.user_id = q.user_id
    ) l ON true
   ORDER BY q.n`;

/** Parameters are positional: $7.. are the window starts, named here for the SQL above. */
const WINDOWS = ['$h1', '$h24', '$d7', '$d30', '$d90'] as const;
const WINDOW_MS = [HOUR_MS, 24 * HOUR_MS, 7 * DAY_MS, 30 * DAY_MS, 90 * DAY_MS];
const VELOCITY_TEXT = WINDOWS.reduce((sql, name, i) => sql.replaceAll(name, `$${7 + i}`), VELOCITY_SQL);

const SUMMARY_COLUMNS = 'id, event_type, user_id, subject_id, outcome, score, rules, created_at';
const DECISION_COLUMNS = `${SUMMARY_COLUMNS}, features`;

/** `fraud_decisions`: every evaluated event with the features and rule versions that decided it. */
@Injectable()
export class DecisionsRepository {
  /** The velocity, sharing and label features of each query, in order. */
  velocity(em: EntityManager, queries: VelocityQuery[], now: Date): Promise<VelocityRow[]> {
    return queryRows<VelocityRow>(
      em,
      VELOCITY_TEXT,
      [
        queries.map((q) => q.userId),
        queries.map((q) => q.eventType),
        queries.map((q) => q.ip),
        queries.map((q) => q.deviceId),
        queries.map((q) => q.cardFingerprint),
        queries.map((q) => q.recipientId),
        ...WINDOW_MS.map((ms) => new Date(now.getTime() - ms)),
      ],
      { prepare: true },
    );
  }

  /** Where the requests behind these subjects came from: the first decision of `eventType` on each. */
  async origins(
    em: EntityManager,
    eventType: FraudEventType,
    subjectIds: string[],
  ): Promise<Map<string, { ip: string | null; deviceId: string | null; ipCountry: string | null }>> {
    const rows = await queryRows<{ subject_id: string; ip: string | null; device_id: string | null; ip_country: string | null }>(
      em,
      `SELECT DISTINCT ON (subject_id) subject_id, host(ip) AS ip, device_id, features->>'ip.country' AS ip_country
         FROM fraud_decisions WHERE event_type = $1 AND subject_id = ANY ($2::text[]) ORDER BY subject_id, created_at`,
      [eventType, subjectIds],
    );
    return new Map(rows.map((r) => [r.subject_id, { ip: r.ip, deviceId: r.device_id, ipCountry: r.ip_country }]));
  }

  async insertMany(db: EntityManager | DataSource, decisions: NewDecision[]): Promise<void> {
    if (!decisions.length) return;
    await queryRows(
      db,
      `INSERT INTO fraud_decisions (id, event_type, user_id, subject_id, ip, device_id, card_fingerprint, amount, outcome, score,
                                    features, rules, matched_rule_ids, created_at)
       SELECT d.id, d.event_type, d.user_id, d.subject_id, d.ip, d.device_id, d.card, d.amount, d.outcome, d.score,
              d.features, d.rules, ARRAY(SELECT jsonb_array_elements_text(d.matched))::uuid[], d.created_at
         FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::inet[], $6::uuid[], $7::text[], $8::bigint[], $9::text[],
                     $10::int[], $11::jsonb[], $12::jsonb[], $13::jsonb[], $14::timestamptz[])
              AS d(id, event_type, user_id, subject_id, ip, device_id, card, amount, outcome, score, features, rules, matched, created_at)`,
      [
        decisions.map((d) => d.id),
        decisions.map((d) => d.eventType),
        decisions.map((d) => d.userId),
        decisions.map((d) => d.subjectId),
        decisions.map((d) => d.ip),
        decisions.map((d) => d.deviceId),
        decisions.map((d) => d.cardFingerprint),
        decisions.map((d) => d.amount?.toString() ?? null),
        decisions.map((d) => d.outcome),
        decisions.map((d) => d.score),
        decisions.map((d) => JSON.stringify(d.features)),
        decisions.map((d) => JSON.stringify(d.rules)),
        decisions.map((d) => JSON.stringify(d.matchedRuleIds)),
        decisions.map((d) => d.createdAt),
      ],
      { prepare: true },
    );
  }

  async find(db: EntityManager | DataSource, id: string): Promise<DecisionRow | undefined> {
    const [row] = await queryRows<DecisionRow>(db, `SELECT ${DECISION_COLUMNS} FROM fraud_decisions WHERE id = $1`, [id]);
    return row;
  }

  /** Newest first; a rule filter reads the GIN index on matched_rule_ids (hence its cardinality predicate). */
  list(db: EntityManager | DataSource, q: DecisionListQuery): Promise<DecisionSummaryRow[]> {
    return queryRows<DecisionSummaryRow>(
      db,
      `SELECT ${SUMMARY_COLUMNS} FROM fraud_decisions
        WHERE ($1::uuid IS NULL OR user_id = $1) AND ($2::text IS NULL OR event_type = $2) AND ($3::text IS NULL OR outcome = $3)
          AND ($4::uuid IS NULL OR (cardinality(matched_rule_ids) > 0 AND matched_rule_ids @> ARRAY[$4::uuid]))
          AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6::uuid)) AND ($7::timestamptz IS NULL OR created_at > $7)
        ORDER BY created_at DESC, id DESC LIMIT $8`,
      [q.userId, q.eventType, q.outcome, q.ruleId, q.before?.createdAt ?? null, q.before?.id ?? null, q.since, q.limit],
    );
  }

  /** A user's decisions with this outcome made after `since` (BLOCK: the partial index fraud_decisions_user_blocks). */
  async countForUser(db: EntityManager | DataSource, userId: string, outcome: FraudAction, since: Date): Promise<number> {
    const [row] = await queryRows<{ n: number }>(
      db,
      `SELECT count(*)::int AS n FROM fraud_decisions WHERE user_id = $1 AND outcome = $2 AND created_at > $3`,
      [userId, outcome, since],
    );
    return row.n;
  }

  async summaries(db: EntityManager | DataSource, ids: string[]): Promise<DecisionSummaryRow[]> {
    if (!ids.length) return [];
    return queryRows<DecisionSummaryRow>(db, `SELECT ${SUMMARY_COLUMNS} FROM fraud_decisions WHERE id = ANY ($1::uuid[])`, [ids]);
  }
}
