import { randomBytes, randomUUID } from 'node:crypto';
import { Clock } from '../../src/common/clock.service';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { DecisionsRepository, NewDecision } from '../../src/fraud/decisions.repository';
import { FraudService } from '../../src/fraud/fraud.service';
import { FraudAction, FraudDecision, FraudEvent, FraudEventType, ListType, RuleMode, RuleResult } from '../../src/fraud/fraud.types';
import { RulesService } from '../../src/fraud/rules.service';
import { bulkBuyers } from './market-fixtures';
import { TestApp } from './test-app';

/** The fraud engine driven as its callers drive it: `evaluate` inside a transaction of the caller's. */
export function fraudEngine(t: TestApp) {
  const fraud = t.app.get(FraudService);
  const tx = t.app.get(TransactionRunner);
  const clock = t.app.get(Clock);
  const rules = t.app.get(RulesService);
  let ips = 0;

  const evaluate = (event: FraudEvent): Promise<FraudDecision> => tx.run((em) => fraud.evaluate(em, event));

  return {
    fraud,
    tx,
    clock,
    evaluate,
    /** The outcome of one event, and the names of the rules that matched it. */
    async outcome(event: FraudEvent): Promise<[FraudAction, string[]]> {
      const d = await evaluate(event);
      return [d.outcome, d.rules.filter((r) => r.matched).map((r) => r.name)];
    },
    /** Users inserted directly (fast), created `ageMs` before the business clock's now. */
    async users(n: number, ageMs = 0): Promise<string[]> {
      const ids = (await bulkBuyers(t, n)).map((a) => a.id);
      if (ageMs) await t.sql(`UPDATE users SET created_at = created_at - $2 * interval '1 millisecond' WHERE id = ANY ($1)`, [ids, ageMs]);
      return ids;
    },
    /** An address no other test of the file uses (ip features count any user's events). */
    ip: () => `10.${(++ips >> 8) & 255}.${ips & 255}.${randomBytes(1)[0] >> 1}`,
    /** A fraud_list_entries row, as the admin list CRUD would add it. */
    async list(type: ListType, value: string, opts: { expiresAt?: Date; removed?: boolean } = {}): Promise<string> {
      const now = clock.now();
      const [row] = await t.sql<{ id: string }>(
        `INSERT INTO fraud_list_entries (id, list_type, value, reason, expires_at, created_at, removed_at)
         VALUES ($1, $2, $3, 'e2e', $4, $5, $6) RETURNING id`,
        [randomUUID(), type, value, opts.expiresAt ?? null, now, opts.removed ? now : null],
      );
      return row.id;
    },
    /**
     * A rule as the admin routes store one (a rules row at version 1 and its version row), or, with
     * `ruleId`, a new version of it made current; the engine is told to re-read its rules.
     */
    async rule(r: {
      ruleId?: string;
      events: FraudEventType[];
      condition: unknown;
      action?: FraudAction;
      score?: number;
      mode?: RuleMode;
    }): Promise<{ ruleId: string; versionId: string; name: string }> {
      const now = clock.now();
      const ruleId = r.ruleId ?? randomUUID();
      const name = `e2e-${ruleId.slice(0, 8)}`;
      const versionId = randomUUID();
      if (!r.ruleId) {
        await t.sql(`INSERT INTO fraud_rules (id, name, current_version, created_at, updated_at) VALUES ($1, $2, 1, $3, $3)`, [
          ruleId,
          name,
          now,
        ]);
      }
      await t.sql(
        `INSERT INTO fraud_rule_versions (id, rule_id, version, name, description, event_types, condition, action, score, mode, created_at)
         SELECT $1, $2, COALESCE(max(version), 0) + 1, $3, '', $4, $5::jsonb, $6, $7, $8, $9 FROM fraud_rule_versions WHERE rule_id = $2`,
        [versionId, ruleId, name, r.events, JSON.stringify(r.condition), r.action ?? 'ALLOW', r.score ?? 0, r.mode ?? 'ACTIVE', now],
      );
      await t.sql(
        `UPDATE fraud_rules SET current_version = (SELECT max(version) FROM fraud_rule_versions WHERE rule_id = $1), updated_at = $2 WHERE id = $1`,
        [ruleId, now],
      );
      rules.invalidate();
      return { ruleId, versionId, name };
    },
    /** Stored decisions `agoMs` before now, as earlier evaluations would have left them (a seeded history). */
    async history(rows: (Partial<NewDecision> & { userId: string; eventType: FraudEventType; agoMs: number })[]): Promise<void> {
      const now = clock.now().getTime();
      const decisions = rows.map(({ agoMs, ...d }): NewDecision => ({
        id: randomUUID(),
        subjectId: randomUUID(),
        ip: null,
        deviceId: null,
        cardFingerprint: null,
        amount: null,
        outcome: 'ALLOW',
        score: 0,
        features: {},
        rules: [],
        matchedRuleIds: [],
        createdAt: new Date(now - agoMs),
        ...d,
      }));
      await tx.run((em) => t.app.get(DecisionsRepository).insertMany(em, decisions));
    },
    async decisionRow(id: string) {
      const [row] = await t.sql<{ outcome: FraudAction; rules: RuleResult[]; matched_rule_ids: string[] }>(
        `SELECT outcome, rules, matched_rule_ids::text[] AS matched_rule_ids FROM fraud_decisions WHERE id = $1`,
        [id],
      );
      return row;
    },
    async reviewsOf(subjectId: string): Promise<{ event_type: string; status: string; decision_id: string }[]> {
      return t.sql(`SELECT event_type, status, decision_id FROM fraud_reviews WHERE subject_id = $1`, [subjectId]);
    },
    /** A prom-client series as GET /metrics serves it (0 when absent). */
    async metric(name: string, labels: string): Promise<number> {
      const text = (await t.http().get('/metrics').expect(200)).text;
      const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
      return line ? Number(line.split(' ').pop()) : 0;
    },
  };
}

export type FraudEngine = ReturnType<typeof fraudEngine>;

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
