import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Counter, Histogram, register } from 'prom-client';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { AppConfig } from '../config/app-config';
import { TransactionRunner } from '../database/transaction-runner';
import { Outcome } from '../common/outcome';
import { sideBySide } from '../database/side-by-side';
import { AccountFlagsRepository } from './account-flags.repository';
import { DecisionsRepository, NewDecision } from './decisions.repository';
import { decisionSummary, DecisionSummary } from './decisions.service';
import { decide } from './decision.policy';
import { FeaturesService } from './features.service';
import { FraudErrors } from './fraud.errors';
import { FraudAction, FraudDecision, FraudEvent, RuleResult } from './fraud.types';
import { LabelsRepository, NewLabel } from './labels.repository';
import { ListProbe, ListsRepository } from './lists.repository';
import { ReviewsService } from './reviews.service';
import { conditionHolds, Data, listProbes, membershipKey, ruleData } from './rule-condition';
import { RulesService } from './rules.service';
import { RuleVersion } from './rules.repository';

const ruleErrors =
  (register.getSingleMetric('fraud_rule_errors_total') as Counter<string> | undefined) ??
  new Counter({ name: 'fraud_rule_errors_total', help: 'Fraud rule evaluations that threw, by rule', labelNames: ['rule'] });
const decisionsTotal =
  (register.getSingleMetric('fraud_decisions_total') as Counter<string> | undefined) ??
  new Counter({ name: 'fraud_decisions_total', help: 'Fraud decisions by event type and outcome', labelNames: ['event', 'outcome'] });

const evaluationSeconds =
  (register.getSingleMetric('fraud_evaluation_seconds') as Histogram<string> | undefined) ??
  new Histogram({
    name: 'fraud_evaluation_seconds',
    help: 'Time of one evaluation (evaluateMany: the events of one call, e.g. a purchase batch), by the first event type',
    labelNames: ['event'],
    buckets: [0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5],
  });

/**
 * The fraud engine's one entry point for other modules. `evaluate` decides events synchronously in
 * the caller's transaction, before the action commits: features (features.service.ts), every live
 * rule version for the event type, the outcome (decision.policy.ts), and the decision stored with the
 * feature values and rule results. A REVIEW opens a review case on the event's subject (reviews.service.ts).
 * A BLOCK is recorded beside the caller's transaction, which the caller then rolls back with
 * `FraudErrors.blocked()`.
 */
@Injectable()
export class FraudService {
  private readonly log = new Logger('Fraud');

  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly features: FeaturesService,
    private readonly rules: RulesService,
    private readonly lists: ListsRepository,
    private readonly decisions: DecisionsRepository,
    private readonly labels: LabelsRepository,
    private readonly reviews: ReviewsService,
    private readonly accountFlags: AccountFlagsRepository,
  ) {}

  /** Decides one event (see `evaluateMany`). */
  async evaluate(em: EntityManager, event: FraudEvent): Promise<FraudDecision> {
    return (await this.evaluateMany(em, [event]))[0];
  }

  /**
   * Decides several events in one go (a purchase batch), each on its own; answers in order. `beside`
   * gets the decisions as soon as they are made and runs beside their insert (the caller's next
   * statements share its round trip); answers once both have ended.
   */
  async evaluateMany(em: EntityManager, events: FraudEvent[], beside: Beside = nothingBeside): Promise<FraudDecision[]> {
    const now = this.clock.now();
    if (!events.length || !this.config.fraud.evaluation) {
      const decisions = events.map((e) => unevaluated(e, now));
      await beside(decisions);
      return decisions;
    }
    const done = evaluationSeconds.startTimer({ event: events[0].type });
    try {
      return await this.decideAll(em, events, now, beside);
    } finally {
      done();
    }
  }

  /**
   * The rules on the units of a batch, in one evaluation: a blocked unit is answered with the refusal
   * (in `outcomes`, at its index); answers the others in order, each with whether it goes to review.
   */
  async screenBatch<U extends { index: number }>(
    em: EntityManager,
    units: U[],
    eventOf: (unit: U) => FraudEvent,
    outcomes: Outcome<unknown>[],
    beside: (screened: Screened<U>[]) => Promise<unknown> = nothingBeside,
  ): Promise<Screened<U>[]> {
    let screened: Screened<U>[] = [];
    await this.evaluateMany(em, units.map(eventOf), (decisions) => {
      screened = units.flatMap((unit, i) => {
        const { outcome } = decisions[i];
        if (outcome !== 'BLOCK') return [{ unit, review: outcome === 'REVIEW' }];
        outcomes[unit.index] = { error: FraudErrors.blocked() };
        return [];
      });
      return beside(screened);
    });
    return screened;
  }

  private async decideAll(em: EntityManager, events: FraudEvent[], now: Date, beside: Beside): Promise<FraudDecision[]> {
    const { features, deviceIds } = await this.features.compute(em, events);
    const rules: RuleVersion[][] = [];
    for (const e of events) rules.push(await this.rules.liveFor(em, e.type));
    const data = features.map((f) => ruleData(f));
    const probes = events.flatMap((_, i) => rules[i].flatMap((r) => safeProbes(r, data[i])));
    const members = new Set((await this.lists.members(em, dedupe(probes), now)).map((p) => membershipKey(p.type, p.value)));
    const decided = events.map((event, i) => {
      const judged = ruleData(features[i], members);
      const results = rules[i].map((r) => this.judge(r, judged));
      const { outcome, score } = decide(results, this.config.fraud);
      decisionsTotal.inc({ event: event.type, outcome });
      const record: NewDecision = {
        id: randomUUID(),
        eventType: event.type,
        userId: event.userId,
        subjectId: event.subjectId,
        ip: event.ip ?? (features[i]['ip.address'] as string | null),
        deviceId: deviceIds[i],
        cardFingerprint: event.card?.fingerprint ?? null,
        amount: event.amount ?? null,
        outcome,
        score,
        features: features[i],
        rules: results,
        matchedRuleIds: [...new Set(results.filter((r) => r.matched).map((r) => r.ruleId))],
        createdAt: now,
      };
      return record;
    });
    const answers = decided.map((d) => ({
      id: d.id,
      eventType: d.eventType,
      userId: d.userId,
      subjectId: d.subjectId,
      outcome: d.outcome,
      score: d.score,
      features: d.features,
      rules: d.rules,
      createdAt: d.createdAt,
    }));
    await sideBySide([this.record(em, decided), beside(answers)]);
    return answers;
  }

  /** Stores the decisions: a BLOCK beside the caller's transaction (which rolls back), the others in it, their reviews opened. */
  private async record(em: EntityManager, decided: NewDecision[]): Promise<void> {
    const blocked = decided.filter((d) => d.outcome === 'BLOCK');
    const kept = decided.filter((d) => d.outcome !== 'BLOCK');
    await this.decisions.insertMany(em, kept);
    if (blocked.length) await this.tx.runBeside((side) => this.decisions.insertMany(side, blocked));
    await this.reviews.open(
      em,
      kept.filter((d) => d.outcome === 'REVIEW' && d.eventType !== 'login'),
    );
  }

  /**
   * Records what turned out bad (chargebacks and lost disputes from payments, admins' confirmed
   * takeovers and frauds), in the caller's transaction; a reference already recorded changes nothing.
   */
  recordLabel(em: EntityManager, label: NewLabel): Promise<boolean> {
    return this.labels.insert(em, label, this.clock.now());
  }

  /** Chargebacks, lost disputes or confirmed labels recorded for a user (reseller eligibility). */
  countLabels(userId: string, kind: NewLabel['kind']): Promise<number> {
    return this.labels.countForUser(this.tx.manager, userId, kind);
  }

  /** A user's decisions with this outcome made after `since` (reseller eligibility: no block in 90 days). */
  countDecisions(userId: string, q: { outcome: FraudAction; since: Date }, em?: EntityManager): Promise<number> {
    return this.decisions.countForUser(em ?? this.tx.manager, userId, q.outcome, q.since);
  }

  /** A user's newest decisions (any event type) with the rules that matched, newest first. */
  async recentDecisions(userId: string, limit: number, em?: EntityManager): Promise<DecisionSummary[]> {
    const rows = await this.decisions.list(em ?? this.tx.manager, {
      userId,
      eventType: null,
      outcome: null,
      ruleId: null,
      before: null,
      since: null,
      limit,
    });
    return rows.map(decisionSummary);
  }

  /**
   * What the fraud engine holds against each account since its `since`: confirmed_takeover and
   * confirmed_fraud labels, and BLOCK decisions. Accounts without any are absent.
   */
  async flags(em: EntityManager, users: { userId: string; since: Date }[]): Promise<Map<string, string[]>> {
    if (!users.length) return new Map();
    const rows = await this.accountFlags.flags(em, users);
    const flagged = rows.map((r): [string, string[]] => [
      r.user_id,
      [
        ...r.confirmed.map((l) => `fraud label ${l.kind} (${l.reference})`),
        ...r.blocks.map((b) => `fraud block on ${b.event_type} (decision ${b.id})`),
      ],
    ]);
    return new Map(flagged.filter(([, f]) => f.length > 0));
  }

  private judge(rule: RuleVersion, data: Data): RuleResult {
    const base = {
      ruleId: rule.ruleId,
      versionId: rule.versionId,
      version: rule.version,
      name: rule.name,
      mode: rule.mode,
      action: rule.action,
      score: rule.score,
    };
    try {
      return { ...base, matched: conditionHolds(rule.condition, data) };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      ruleErrors.inc({ rule: rule.name });
      this.log.error(`fraud rule ${rule.name} v${rule.version} threw: ${message}`);
      return { ...base, matched: false, error: message.slice(0, 500) };
    }
  }
}

function safeProbes(rule: RuleVersion, data: ReturnType<typeof ruleData>): ListProbe[] {
  try {
    return listProbes(rule.condition, data);
  } catch {
    return []; // the rule throws again when judged, and is recorded then
  }
}

function dedupe(probes: ListProbe[]): ListProbe[] {
  const seen = new Map(probes.map((p) => [membershipKey(p.type, p.value), p]));
  return [...seen.values()];
}

/** What a caller runs beside the decisions' insert, given the decisions (see `evaluateMany`). */
type Beside = (decisions: FraudDecision[]) => Promise<unknown>;
const nothingBeside = (): Promise<void> => Promise.resolve();

/** A unit the rules let through, and whether it goes to review. */
export interface Screened<U> {
  unit: U;
  review: boolean;
}

function unevaluated(e: FraudEvent, now: Date): FraudDecision {
  return {
    id: randomUUID(),
    eventType: e.type,
    userId: e.userId,
    subjectId: e.subjectId,
    outcome: 'ALLOW',
    score: 0,
    features: {},
    rules: [],
    createdAt: now,
  };
}
