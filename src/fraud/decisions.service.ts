import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock.service';
import { rethrowBadCursor } from '../common/cursors';
import { decodeCursor, Page, pageLimit, toPage } from '../common/pagination';
import { addHours } from '../common/time';
import { DecisionsRepository, DecisionSummaryRow } from './decisions.repository';
import { DecisionsQuery } from './dto/decisions.dto';
import { FEATURE_CATALOG } from './feature-catalog';
import { FraudErrors } from './fraud.errors';
import { FeatureValues, RuleResult } from './fraud.types';
import { conditionVariables, listProbes, ruleData } from './rule-condition';
import { RulesRepository } from './rules.repository';

const MEANING = new Map(FEATURE_CATALOG.map((f) => [f.name, f.meaning]));
/** The windows a decisions page is looked for in, the last one unbounded. */
const LIST_WINDOWS_HOURS = [1, 24, 7 * 24, 30 * 24, 365 * 24, null];

/** A decision as lists show it: the outcome and the rule versions that matched (shadow ones included). */
export function decisionSummary(d: DecisionSummaryRow) {
  return {
    id: d.id,
    eventType: d.event_type,
    userId: d.user_id,
    subjectId: d.subject_id,
    outcome: d.outcome,
    score: d.score,
    createdAt: d.created_at,
    matchedRules: d.rules
      .filter((r) => r.matched)
      .map((r) => ({
        ruleId: r.ruleId,
        versionId: r.versionId,
        version: r.version,
        name: r.name,
        mode: r.mode,
        action: r.action,
        score: r.score,
      })),
    erroredRules: d.rules.filter((r) => r.error !== undefined).map((r) => r.name),
  };
}
export type DecisionSummary = ReturnType<typeof decisionSummary>;

/**
 * Reading decisions back: lists by user, event type, outcome and rule, and one decision explained
 * with the version of every rule it evaluated (read by version id, so a decision stays explainable
 * after its rules were edited) and the values the condition read.
 */
@Injectable()
export class DecisionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly decisions: DecisionsRepository,
    private readonly rules: RulesRepository,
  ) {}

  /**
   * Newest first. fraud_decisions has no btree on created_at (a BRIN keeps inserts cheap), so a page
   * is looked for in growing windows back from the cursor (or now): a window holding a full page holds
   * the newest page, and only a sparse filter reads the whole table.
   */
  async list(q: DecisionsQuery): Promise<Page<DecisionSummary>> {
    const limit = pageLimit(q);
    const key = decodeCursor(q.cursor, 2);
    const before = key ? { createdAt: String(key[0]), id: String(key[1]) } : null;
    const anchor = before ? new Date(before.createdAt) : this.clock.now();
    const windows = Number.isNaN(anchor.getTime()) ? [null] : LIST_WINDOWS_HOURS;
    let rows: DecisionSummaryRow[] = [];
    for (const hours of windows) {
      const since = hours === null ? null : addHours(anchor, -hours);
      rows = await this.decisions
        .list(this.dataSource, {
          userId: q.userId ?? null,
          eventType: q.eventType ?? null,
          outcome: q.outcome ?? null,
          ruleId: q.ruleId ?? null,
          before,
          since,
          limit: limit + 1,
        })
        .catch(rethrowBadCursor);
      if (rows.length > limit) break;
    }
    return toPage(rows, limit, decisionSummary, (r) => [r.created_at.toISOString(), r.id]);
  }

  /** Each item (a review) with the summary of its decision. */
  async attach<T extends { decisionId: string }>(items: T[]): Promise<(T & { decision: DecisionSummary | null })[]> {
    const rows = await this.decisions.summaries(this.dataSource, [...new Set(items.map((i) => i.decisionId))]);
    const byId = new Map(rows.map((r) => [r.id, decisionSummary(r)]));
    return items.map((i) => ({ ...i, decision: byId.get(i.decisionId) ?? null }));
  }

  async explain(id: string) {
    const d = await this.decisions.find(this.dataSource, id);
    if (!d) throw FraudErrors.decisionNotFound();
    const versions = new Map(
      (
        await this.rules.versionsById(
          this.dataSource,
          d.rules.map((r) => r.versionId),
        )
      ).map((v) => [v.versionId, v]),
    );
    return {
      ...decisionSummary(d),
      features: d.features,
      rules: d.rules.map((r) => {
        const condition = versions.get(r.versionId)?.condition ?? null;
        return { ...resultView(r), condition, explanation: explanation(condition, d.features) };
      }),
    };
  }
}

function resultView(r: RuleResult) {
  const { ruleId, versionId, version, name, mode, action, score, matched } = r;
  return { ruleId, versionId, version, name, mode, action, score, matched, error: r.error ?? null };
}

/** What the condition read: each variable with its value in the decision, and the list lookups it made. */
function explanation(condition: unknown, features: FeatureValues) {
  if (condition === null) return { variables: [], listLookups: [] };
  const variables = conditionVariables(condition).map((name) => ({
    name,
    value: features[name] ?? null,
    meaning: MEANING.get(name) ?? null,
  }));
  let listLookups: { type: string; value: string }[] = [];
  try {
    listLookups = listProbes(condition, ruleData(features));
  } catch {
    // the rule threw on this decision (recorded as its error)
  }
  return { variables, listLookups };
}
