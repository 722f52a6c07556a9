import { Injectable } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { EntityManager } from 'typeorm';
import { Clock } from '../common/clock.service';
import { addDays } from '../common/time';
import { TransactionRunner } from '../database/transaction-runner';
import { BacktestReport, BacktestTally, DraftRule, featuresOf, Verdict } from './backtest-tally';
import { BacktestRepository, ScanRow } from './backtest.repository';
import { FraudErrors } from './fraud.errors';
import { FeatureValues, LABEL_KINDS } from './fraud.types';
import { ListProbe, ListsRepository } from './lists.repository';
import { conditionHolds, conditionVariables, listProbes, membershipKey, ruleData, validateCondition } from './rule-condition';

/** Rows per FETCH: enough to amortise the round trip, few enough to keep the event loop responsive. */
const PAGE_SIZE = 20_000;
/** Verdicts remembered by the values they were judged on; past this the memory starts afresh. */
const MEMO_MAX = 200_000;

export type { BacktestReport, DraftRule } from './backtest-tally';

/**
 * Replays a draft rule over the stored decisions of the last N days with the engine's own evaluator
 * (rule-condition.ts: the stored feature values nested by `ruleData`, `conditionHolds`, list
 * membership through `ListsRepository.members` against the lists as they are now), and scores it
 * against the labels: of the users it would have caught, how many were labelled bad afterwards.
 * Reads only, in one REPEATABLE READ snapshot, on a connection of its own.
 */
@Injectable()
export class BacktestService {
  /** The backtests of one process run one at a time: each is a full scan that keeps a core busy. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly repo: BacktestRepository,
    private readonly lists: ListsRepository,
  ) {}

  async backtest(rule: DraftRule, days: number): Promise<BacktestReport> {
    const problems = validateCondition(rule.condition);
    if (problems.length) throw FraudErrors.invalidRule(problems.map((p) => ({ ...p, field: 'rule.condition' })));
    const run = this.queue.then(() => this.replay(rule, days));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async replay(rule: DraftRule, days: number): Promise<BacktestReport> {
    const started = performance.now();
    const to = this.clock.now();
    const from = addDays(to, -days);
    const judge = new Judge(rule.condition);
    const scan = { eventTypes: rule.eventTypes, from, to, variables: judge.variables };
    const tally = new BacktestTally(judge.variables);
    const sample = await this.tx.run(
      async (em) => {
        await this.repo.readOnly(em);
        for await (const page of this.repo.scan(em, scan, PAGE_SIZE)) {
          const verdicts = await judge.page(page, (features) => this.probe(em, judge, features, to));
          page.forEach((r, i) => tally.add(r, verdicts[i]));
        }
        tally.label(await this.repo.labelsAfter(em, tally.userIds, tally.firstSeen, LABEL_KINDS));
        return tally.sample(await this.repo.at(em, scan, tally.sampleKeys()));
      },
      { isolation: 'REPEATABLE READ' },
    );
    return { rule, days, from, to, ...tally.report(), sample, durationMs: Math.round(performance.now() - started) };
  }

  /** Looks up, in one statement, the list values these features probe that were not looked up before. */
  private async probe(em: EntityManager, judge: Judge, features: FeatureValues[], now: Date): Promise<void> {
    const fresh = new Map<string, ListProbe>();
    for (const f of features) {
      let probes: ListProbe[];
      try {
        probes = listProbes(judge.condition, ruleData(f));
      } catch {
        continue; // the condition throws again when judged, and is counted then
      }
      for (const p of probes) {
        const key = membershipKey(p.type, p.value);
        if (!judge.probed.has(key)) fresh.set(key, p);
      }
    }
    if (!fresh.size) return;
    for (const key of fresh.keys()) judge.probed.add(key);
    for (const m of await this.lists.members(em, [...fresh.values()], now)) judge.members.add(membershipKey(m.type, m.value));
  }
}

/**
 * Judges decisions as the engine judges a rule (fraud.service.ts `judge`): the condition over
 * `ruleData` of the stored values, with list membership; a condition that throws does not match. A
 * verdict depends only on the values the condition reads (membership too: it is looked up by value),
 * so while values repeat, each distinct set is judged once.
 */
class Judge {
  readonly variables: string[];
  /** List values looked up so far, and those found on a list (`membershipKey`). */
  readonly probed = new Set<string>();
  readonly members = new Set<string>();
  private readonly lists: boolean;
  /** Verdicts by `feature_values`; null once values stop repeating (most of a page new). */
  private memo: Map<string, Verdict> | null = new Map();

  constructor(readonly condition: Record<string, unknown>) {
    this.variables = conditionVariables(condition);
    this.lists = usesLists(condition);
  }

  /** The verdict on each row of the page; `probe` looks up the list values of the features to judge first. */
  async page(page: ScanRow[], probe: (features: FeatureValues[]) => Promise<void>): Promise<Verdict[]> {
    const memo = this.memo;
    if (memo && memo.size > MEMO_MAX) memo.clear();
    const verdicts = new Array<Verdict | undefined>(page.length);
    const todo = new Map<string, FeatureValues>();
    page.forEach((r, i) => {
      const known = memo?.get(r.feature_values);
      if (known !== undefined) verdicts[i] = known;
      else if (!todo.has(r.feature_values)) todo.set(r.feature_values, featuresOf(this.variables, r.feature_values));
    });
    if (this.lists && todo.size) await probe([...todo.values()]);
    const judged = new Map<string, Verdict>();
    for (const [values, features] of todo) judged.set(values, this.judge(features));
    if (memo) {
      if (todo.size > page.length / 2) this.memo = null;
      else for (const [values, verdict] of judged) memo.set(values, verdict);
    }
    return page.map((r, i) => verdicts[i] ?? judged.get(r.feature_values)!);
  }

  private judge(features: FeatureValues): Verdict {
    try {
      return conditionHolds(this.condition, ruleData(features, this.members));
    } catch (err) {
      return (err instanceof Error ? err.message : String(err)).slice(0, 500);
    }
  }
}

function usesLists(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(usesLists);
  if (typeof node !== 'object' || node === null) return false;
  return Object.entries(node).some(([op, args]) => op === 'in_list' || usesLists(args));
}
